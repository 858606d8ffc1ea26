/**
 * `londiste wait-sync`: blocks while a local table is not `ok`, saying which ones, and ends
 * once the last one is (the states are set here as the worker and its copy helpers set
 * them); `--timeout` gives up with one line naming the tables.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes, type TestNode, waitFor } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { addTable, cli, londiste, setState, startLondiste } from './helpers.js';

const test = useTestDatabase();
const queue = 'waitq';
let root: TestNode;
let leaf: TestNode;
const tables = ['public.a', 'public.b', 'public.c'];

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  for (const table of tables) {
    const name = table.slice('public.'.length);
    for (const node of [root, leaf]) {
      await node.db.query(`create table ${name} (id int primary key)`);
    }
    await addTable(root, queue, table);
    await leaf.db.query('select * from londiste.global_add_table($1, $2)', [queue, table]);
  }
  // c stays in the set without being added here: it is not waited for.
  for (const table of tables.slice(0, 2)) await addTable(leaf, queue, table);
});

describe('wait-sync', () => {
  it('waits for every local table, then ends', async () => {
    await setState(leaf, queue, 'public.a', 'in-copy');
    const run = startLondiste([...cli(leaf, queue), 'wait-sync']);
    await waitFor(async () => run.stderr().includes('public.b: new'), 'wait-sync to list b');
    expect(run.stderr()).toContain('Waiting for 2 tables to sync:');
    expect(run.stderr()).toContain('  public.a: in-copy');
    await setState(leaf, queue, 'public.a', 'ok');
    await setState(leaf, queue, 'public.b', 'catching-up');
    await setState(leaf, queue, 'public.b', 'ok');
    const result = await run.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('All 2 tables of node leaf are in sync\n');
  });

  it('returns at once when all are in sync', async () => {
    const result = await londiste([...cli(leaf, queue), 'wait-sync']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('--timeout: gives up with one line naming what is missing', async () => {
    await setState(leaf, queue, 'public.b', 'wanna-sync:12');
    const result = await londiste([...cli(leaf, queue), 'wait-sync', '--timeout', '0.5']);
    expect(result.code).toBe(1);
    const last = result.stderr.trimEnd().split('\n').at(-1);
    expect(last).toMatch(
      /^londiste: error: tables of node leaf not in sync within 0\.5 s: public\.b \(wanna-sync:12\) \(is the worker running\?\)/,
    );
    await setState(leaf, queue, 'public.b', 'ok');
  });

  it('bad input: a --timeout that is no number, an argument', async () => {
    const bad = await londiste([...cli(leaf, queue), 'wait-sync', '--timeout', 'soon']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--timeout must be a number of seconds, not "soon"');
    const extra = await londiste([...cli(leaf, queue), 'wait-sync', 'public.a']);
    expect(extra.code).toBe(1);
    expect(extra.stderr).toContain("command 'wait-sync' got 1 args, but expects 0");
  });

  it('on a database that is no node: one line, nothing else', async () => {
    const db = await test.createDatabase('plain');
    const { host, port, user } = test.cluster;
    const result = await londiste([
      '--db',
      `host=${host} port=${port} user=${user} dbname=${db}`,
      '--queue',
      queue,
      'wait-sync',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/no pgq_node schema|no node|not a node/i);
  });
});
