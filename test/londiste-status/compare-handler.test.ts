/**
 * compare counts the rows a copy takes: a table whose handler (a TypeScript handler from
 * `handler_modules`, as a user writes one) copies only part of the table is compared on
 * that part on both sides.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { background, createChain, sharedNodes, type TestNode } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { addTable, londiste, replicaQuery, setState } from './helpers.js';

const test = useTestDatabase();
const queue = 'halfq';
const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-compare-'));
let root: TestNode;
let leaf: TestNode;
let worker: CascadedWorker;
let loop: ReturnType<typeof background>;
let ini: string;

const handlerModule = `
export const lowHalf = {
  name: 'low_half',
  description: 'Keeps the rows with id <= 50.',
  args: [],
  create: () => ({
    needsTable: () => true,
    processEvent() {},
    async flush() {},
    copyCondition: () => 'id <= 50',
  }),
};
`;

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  await root.db.query('create table half (id int primary key, v text)');
  await leaf.db.query('create table half (id int primary key, v text)');
  await root.db.query(`insert into half select g, 'v' || g from generate_series(1, 100) g`);
  await replicaQuery(leaf, `insert into half select g, 'v' || g from generate_series(1, 50) g`);
  await addTable(root, queue, 'public.half');
  await leaf.db.query('select * from londiste.global_add_table($1, $2)', [queue, 'public.half']);
  await addTable(leaf, queue, 'public.half');
  await leaf.db.query('select * from londiste.local_set_table_attrs($1, $2, $3)', [
    queue,
    'public.half',
    'handler=low_half',
  ]);
  await setState(leaf, queue, 'public.half', 'ok');
  writeFileSync(path.join(dir, 'low-half.mjs'), handlerModule);
  ini = path.join(dir, 'leaf.ini');
  writeFileSync(
    ini,
    `[londiste]\ndb = ${leaf.location}\nqueue_name = ${queue}\nhandler_modules = ./low-half.mjs\n`,
  );
  worker = new CascadedWorker({ connection: leaf.config, queue });
  loop = background(async (signal) => {
    while (!signal.aborted) {
      await root.db.query('select pgq.ticker()');
      await worker.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
});

afterAll(async () => {
  await loop.stop();
  await worker.close();
  rmSync(dir, { recursive: true, force: true });
});

it("counts only the rows of the handler's copy condition on both sides", async () => {
  const result = await londiste([ini, 'compare']);
  expect(result.stderr).not.toContain('Results do not match');
  expect(result.stdout).toMatch(
    /^Counting public\.half\nsrcdb: 50 rows, checksum=(-?\d+)\ndstdb: 50 rows, checksum=\1\n$/,
  );
  expect(result.code).toBe(0);
});

it('a handler module that is missing: one line, no table compared', async () => {
  const broken = path.join(dir, 'broken.ini');
  writeFileSync(
    broken,
    `[londiste]\ndb = ${leaf.location}\nqueue_name = ${queue}\nhandler_modules = ./nowhere.mjs\n`,
  );
  const result = await londiste([broken, 'compare']);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toContain('handler module ./nowhere.mjs could not be loaded');
});
