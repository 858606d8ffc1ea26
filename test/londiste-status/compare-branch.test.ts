/**
 * compare below a branch: the source is the leaf's provider (a branch, whose completed
 * position the leaf must reach while the table is locked there), or the node named by the
 * table's copy_node attribute (here the root, a tick forced after the lock).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { background, createChain, sharedNodes, type TestNode } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { addTable, cli, londiste, replicaQuery, setState } from './helpers.js';

const test = useTestDatabase();
const queue = 'deepq';
let root: TestNode;
let branch: TestNode;
let leaf: TestNode;
let workers: CascadedWorker[];
let loop: ReturnType<typeof background>;

beforeAll(async () => {
  [root, branch, leaf] = await sharedNodes(test, 'root', 'branch', 'leaf');
  await createChain(queue, [root, branch, leaf], 'leaf');
  for (const node of [root, branch, leaf]) {
    await node.db.query('create table t (id int primary key, v text)');
    const rows = node === leaf ? 51 : 50;
    await replicaQuery(node, `insert into t select g, 'v' || g from generate_series(1, ${rows}) g`);
  }
  await addTable(root, queue, 'public.t');
  for (const node of [branch, leaf]) {
    await node.db.query('select * from londiste.global_add_table($1, $2)', [queue, 'public.t']);
    await addTable(node, queue, 'public.t');
    await setState(node, queue, 'public.t', 'ok');
  }
  workers = [branch, leaf].map((n) => new CascadedWorker({ connection: n.config, queue }));
  loop = background(async (signal) => {
    while (!signal.aborted) {
      await root.db.query('select pgq.ticker()');
      for (const w of workers) await w.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});

afterAll(async () => {
  await loop.stop();
  await Promise.all(workers.map((w) => w.close()));
});

it('compares with the provider, a branch', async () => {
  const result = await londiste([...cli(leaf, queue), 'compare', '--count-only']);
  expect(result.stderr).toContain('public.t: Using node branch as provider');
  expect(result.stdout).toBe('Counting public.t\nsrcdb: 50 rows\ndstdb: 51 rows\n');
  expect(result.code).toBe(1);
});

it('compares with the copy_node of the table', async () => {
  await leaf.db.query('select * from londiste.local_set_table_attrs($1, $2, $3)', [
    queue,
    'public.t',
    'copy_node=root',
  ]);
  await root.db.query(`insert into t values (51, 'v51')`);
  const result = await londiste([...cli(leaf, queue), 'compare']);
  expect(result.stderr).toContain('public.t: Using node root as provider');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(
    /^Counting public\.t\nsrcdb: 51 rows, checksum=(-?\d+)\ndstdb: 51 rows, checksum=\1\n$/,
  );
});
