/**
 * How compare and repair name the rows of a range that differs, on keys of every kind: a
 * text first key column (both sides' key-ordered (key, row hash) streams merged), an
 * integer first key column (blocks of key values, then the differing blocks by the key's
 * index), bigint keys at both ends of the type, and keys and values that COPY's text
 * format escapes (tab, newline, backslash, quotes, unicode) or that are NULL. Each finds
 * exactly the rows made to differ, in sum and md5 mode, and `repair --apply` makes the
 * leaf equal to the root row for row (compared here by the rows' texts, not by compare).
 *
 * As in compare-repair.test.ts, a plain cascaded worker moves the leaf's position and the
 * test writes the rows on both sides.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { background, createChain, sharedNodes, type TestNode } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { addTable, cli, londiste, replicaQuery, setState } from './helpers.js';

const test = useTestDatabase();
const queue = 'narrowq';
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-narrow-'));
let root: TestNode;
let leaf: TestNode;
let worker: CascadedWorker;
let loop: ReturnType<typeof background>;

async function bothSides(sql: string) {
  await root.db.query(sql);
  await replicaQuery(leaf, sql);
}

// Keys COPY escapes or that sort in surprising places, as text.
const hostile = ['tab\there', 'new\nline', 'back\\slash', "quo'te", 'ünï😀', ' lead', ''];

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  // Text first: read row by row. Integer first (composite): by blocks of key values.
  await bothSides('create table txt (a text, b int, v text, n numeric, primary key (a, b))');
  await bothSides(
    `insert into txt select 'k' || lpad(g::text, 5, '0'), g % 3, 'v' || g, case when g % 5 = 0 then null else g / 3.0 end
       from generate_series(1, 3000) g`,
  );
  const values = hostile.map((h, i) => `(${quote(h)}, ${i}, ${quote(`val ${h}`)}, null)`);
  await bothSides(`insert into txt values ${values.join(', ')}`);
  await bothSides('create table ints (id int, sub text, v text, primary key (id, sub))');
  await bothSides(
    `insert into ints select g, s, 'v' || g || s from generate_series(-3000, 3000) g, (values ('x'), ('y\tz')) s(s)`,
  );
  await bothSides('create table ends (id bigint primary key, v text)');
  await bothSides(
    `insert into ends select g, 'v' || g from generate_series(1, 3000) g
      union all values (-9223372036854775808, 'min'), (9223372036854775807, 'max'), (0, 'zero')`,
  );
  for (const name of ['txt', 'ints', 'ends']) {
    await addTable(root, queue, `public.${name}`);
    await leaf.db.query('select * from londiste.global_add_table($1, $2)', [
      queue,
      `public.${name}`,
    ]);
    await addTable(leaf, queue, `public.${name}`);
    await setState(leaf, queue, `public.${name}`, 'ok');
  }
  worker = new CascadedWorker({ connection: leaf.config, queue });
  loop = background(async (signal) => {
    while (!signal.aborted) {
      await root.db.query('select pgq.ticker()');
      await worker.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
}, 300_000);

afterAll(async () => {
  await loop.stop();
  await worker.close();
  rmSync(dir, { recursive: true, force: true });
});

function quote(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const run = (...args: string[]) => londiste([...cli(leaf, queue), ...args], dir);

/** Every row of the table on both sides, in key order, as one text each. */
async function rowsOf(table: string, key: string): Promise<[string[], string[]]> {
  const sql = `select t::text as r from ${table} t order by ${key}`;
  const a = await root.db.query<{ r: string }>(sql);
  const b = await leaf.db.query<{ r: string }>(sql);
  return [a.rows.map((r) => r.r), b.rows.map((r) => r.r)];
}

async function repairedAndEqual(table: string, key: string) {
  const applied = await run('repair', table, '--apply');
  expect(applied.code, applied.stderr).toBe(1);
  const [a, b] = await rowsOf(table, key);
  expect(b).toEqual(a);
}

describe('narrowing a range that differs', { timeout: 300_000 }, () => {
  it('a text key, row by row: escaped and NULL values found and repaired', async () => {
    // changed: a hostile key's value to NULL and a NULL to a value; missing: two hostile
    // keys; extra: one with a tab and a newline in its key.
    await replicaQuery(leaf, `update txt set v = null where a = ${quote('tab\there')}`);
    await replicaQuery(leaf, `update txt set n = 1 where a = 'k00005'`);
    await replicaQuery(leaf, `delete from txt where a in (${quote('new\nline')}, ${quote('')})`);
    await replicaQuery(leaf, `insert into txt values (${quote('x\ty\nz\\')}, 1, 'extra', 2)`);
    const summary = 'public.txt: 5 rows differ: 2 missing here, 1 extra here, 2 changed';
    for (const checksum of ['sum', 'md5']) {
      const result = await run('compare', 'txt', '--checksum', checksum);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(summary);
      expect(result.stderr).toContain('public.txt: 1 of 1 ranges read again: 0 by blocks');
    }
    const written = await run('repair', 'txt');
    expect(written.code, written.stderr).toBe(1);
    expect(written.stderr).toContain('public.txt: missed: 2 inserts, 2 updates, 1 deletes');
    expect(written.stderr).toContain('1 row by row');
    const fix = readFileSync(path.join(dir, 'fix.public.txt.sql'), 'utf8');
    expect(fix).toContain(`delete from only public.txt where a = E'x\ty\nz\\\\' and b = '1';`);
    expect(fix).toContain(
      `insert into public.txt (a, b, v, n) values ('new\nline', '1', 'val new\nline', NULL);`,
    );
    expect(fix).toContain(`insert into public.txt (a, b, v, n) values ('', '6', 'val ', NULL);`);
    expect(fix).toContain(
      `update only public.txt set v = 'val tab\there', n = NULL where a = 'tab\there' and b = '0';`,
    );
    await repairedAndEqual('txt', 'a, b');
  });

  it('an integer first key column, by blocks of key values: negative keys, a text second column', async () => {
    await replicaQuery(leaf, `update ints set v = 'changed' where id in (-2999, -5, 0, 1777)`);
    await replicaQuery(leaf, `delete from ints where id = 42 and sub = 'y\tz'`);
    await replicaQuery(leaf, `delete from ints where id = -3000`);
    await replicaQuery(leaf, `insert into ints values (3001, 'x', 'extra'), (-3001, 'q', NULL)`);
    const summary = 'public.ints: 13 rows differ: 3 missing here, 2 extra here, 8 changed';
    for (const checksum of ['sum', 'md5']) {
      const result = await run('compare', 'ints', '--checksum', checksum);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain(summary);
      expect(result.stderr).toContain('public.ints: 1 of 1 ranges read again: 1 by blocks');
    }
    const written = await run('repair', 'ints');
    expect(written.stderr).toContain('public.ints: missed: 3 inserts, 8 updates, 2 deletes');
    const fix = readFileSync(path.join(dir, 'fix.public.ints.sql'), 'utf8');
    expect(fix).toContain(`delete from only public.ints where id = '-3001' and sub = 'q';`);
    expect(fix).toContain(`insert into public.ints (id, sub, v) values ('42', 'y\tz', 'v42y\tz');`);
    await repairedAndEqual('ints', 'id, sub');
  });

  it('bigint keys at both ends of the type, and many ranges with --range-rows', async () => {
    await replicaQuery(
      leaf,
      `update ends set v = 'changed' where id in (-9223372036854775808, 0, 1500)`,
    );
    await replicaQuery(leaf, `delete from ends where id = 9223372036854775807`);
    await root.db.query('analyze ends');
    const result = await run('compare', 'ends');
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(
      'public.ends: 4 rows differ: 1 missing here, 0 extra here, 3 changed',
    );
    const ranged = await run('compare', 'ends', '--range-rows', '500', '--checksum', 'md5');
    expect(ranged.code, ranged.stderr).toBe(1);
    expect(ranged.stderr).toContain(
      'public.ends: 4 rows differ: 1 missing here, 0 extra here, 3 changed',
    );
    expect(ranged.stderr).toMatch(/public\.ends: 3 of \d+ ranges read again/);
    await repairedAndEqual('ends', 'id');
  });

  it('a row that fails on one side mid-stream: one line, both streams stopped, no fix file', async () => {
    // Only the leaf has a row whose --repair-where fails, late in key order.
    await replicaQuery(leaf, `insert into txt values ('k99999', 0, 'oops', null)`);
    const file = path.join(dir, 'fix.public.txt.sql');
    rmSync(file, { force: true });
    const failed = await run('repair', 'txt', '--repair-where', "v like 'v%' or v::int > 0");
    expect(failed.code).toBe(1);
    expect(failed.stderr.trimEnd().split('\n').at(-1)).toBe(
      `londiste: error: repair on queue ${queue}: invalid input syntax for type integer: "oops" [SQLSTATE 22P02]`,
    );
    expect(existsSync(file)).toBe(false);
    // Both sessions were left usable: the next run finds the row.
    const again = await run('repair', 'txt');
    expect(again.stderr).toContain('public.txt: missed: 0 inserts, 0 updates, 1 deletes');
  });
});
