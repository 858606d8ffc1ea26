/**
 * `londiste status`: setadm's tree with each node's tables: upstream's `Tables: ok/half/
 * ignored`, a line per local table not in sync with its state, and for a COPY running into
 * the leaf its progress as the server reports it (pg_stat_progress_copy) against the
 * root's size of the table; `--compact` as one line per node.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes, type TestNode, waitFor } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { addTable, cli, londiste, setState } from './helpers.js';

const test = useTestDatabase();
const queue = 'status q';
let root: TestNode;
let leaf: TestNode;

const states: [string, string | null][] = [
  ['public.t_ok', 'ok'],
  ['public.t_new', null],
  ['public.Copy Me', 'in-copy'],
  ['public.t_catch', 'catching-up'],
  ['public.t_wanna', 'wanna-sync:7'],
  ['public.t_do', 'do-sync:7'],
];

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  for (const node of [root, leaf]) {
    for (const [table] of [...states, ['public.t_other']] as [string][]) {
      const name = table.slice('public.'.length);
      await node.db.query(`create table "${name}" (id int primary key, v text)`);
    }
  }
  await root.db.query(
    `insert into "Copy Me" select g, repeat('x', 40) from generate_series(1, 20000) g`,
  );
  await root.db.query('analyze "Copy Me"');
  for (const [table] of [...states, ['public.t_other']] as [string][]) {
    await addTable(root, queue, table);
    await leaf.db.query('select * from londiste.global_add_table($1, $2)', [queue, table]);
  }
  for (const [table, state] of states) {
    await addTable(leaf, queue, table);
    await setState(leaf, queue, table, state);
  }
});

describe('status', () => {
  it('shows each node with its table counts and every table not in sync', async () => {
    const result = await londiste([...cli(leaf, queue), 'status']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`Queue: ${queue}   Local node: leaf`);
    const rootAt = lines.indexOf('root (root)');
    const leafAt = lines.indexOf('+--leaf (leaf)');
    expect(rootAt).toBeGreaterThan(0);
    expect(leafAt).toBeGreaterThan(rootAt);
    // upstream's counts come first under each node, before the lag line.
    expect(lines[rootAt + 1]).toBe('|  Tables: 7/0/0');
    expect(lines[leafAt + 1]).toBe('      Tables: 1/5/1');
    expect(lines[leafAt + 2]).toMatch(/^ {6}(Lag: [^,]+, )?Tick: /);
    const tableLines = lines.slice(leafAt + 3).filter(Boolean);
    expect(tableLines).toEqual([
      '      public.Copy Me: in-copy',
      '      public.t_catch: catching-up',
      '      public.t_do: do-sync:7',
      '      public.t_new: new (waiting for a copy slot)',
      '      public.t_wanna: wanna-sync:7',
    ]);
  });

  it('--compact: one line per node with the counts', async () => {
    const result = await londiste([...cli(leaf, queue), 'status', '--compact']);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.slice(2)).toEqual([
      expect.stringMatching(/^root \(root\) {2}Tables: 7\/0\/0 {2}(Lag: [^,]+, )?Tick: /),
      expect.stringMatching(/^\+--leaf \(leaf\) {2}Tables: 1\/5\/1 {2}(Lag: [^,]+, )?Tick: /),
    ]);
  });

  describe('with a COPY running into the leaf', () => {
    let copier: pg.Client;
    let stream: ReturnType<typeof copyFrom>;
    let copied: Promise<unknown>;

    beforeAll(async () => {
      copier = new pg.Client(leaf.config);
      await copier.connect();
      // As the copy helper: past the leaf's deny trigger.
      await copier.query('set session_replication_role = replica');
      stream = copier.query(copyFrom('copy "Copy Me" (id, v) from stdin'));
      copied = new Promise((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
      });
      const chunk = Array.from({ length: 5000 }, (_, i) => `${i + 1}\t${'x'.repeat(40)}\n`);
      stream.write(chunk.join(''));
      // The server counts rows as it parses them: wait until it has seen the first chunk.
      await waitFor(async () => {
        const { rows } = await leaf.db.query(
          'select tuples_processed from pg_stat_progress_copy where relid = \'"Copy Me"\'::regclass',
        );
        return Number(rows[0]?.tuples_processed ?? 0) >= 5000;
      }, 'the COPY to be under way');
    });

    afterAll(async () => {
      stream.end();
      await copied;
      await copier.end();
    });

    it("shows its progress against the root's table: rows, percent, bytes, rate, ETA", async () => {
      const result = await londiste([...cli(leaf, queue), 'status']);
      expect(result.code).toBe(0);
      const line = result.stdout.split('\n').find((l) => l.includes('public.Copy Me'));
      expect(line).toMatch(
        /^ {6}public\.Copy Me: in-copy, 5,000 of ~20,000 rows \(25%\), [\d.]+ kB of ~[\d.]+ (kB|MB), [\d,]+ rows\/s, ETA \S+$/,
      );
    });

    it('wait-sync names the table with the rows copied so far', async () => {
      const result = await londiste([...cli(leaf, queue), 'wait-sync', '--timeout', '0.1']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^ {2}public\.Copy Me: in-copy, 5,000 rows, [\d.]+ kB, [\d,]+ rows\/s$/m,
      );
    });
  });

  it('the root alone: its tables, nothing pending', async () => {
    const result = await londiste([...cli(root, queue), 'status']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Local node: root');
    expect(result.stdout).toMatch(/^\| {2}Tables: 7\/0\/0$/m);
  });

  it('--help status describes the table lines', async () => {
    const result = await londiste(['--help', 'status']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Tables: ok/half/ignored');
    const help = await londiste(['--help']);
    // The Londiste status takes the place of the cascade's: listed once.
    expect(help.stdout.match(/^ {2}status /gm)).toHaveLength(1);
  });
});
