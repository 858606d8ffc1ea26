/**
 * What replay does besides table rows, with real worker processes on the root and a leaf:
 * a truncate (`R`), EXECUTE scripts at their queue position (attributes checked against the
 * leaf's tables, `@name@` tags, once per file), sequences pushed forward by the root's worker
 * through londiste.update-seq, and a table whose handler is unknown: one clear line, the
 * batch retried, nothing lost once the handler is fixed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  addReplicaTable,
  addRootTable,
  type LNode,
  poll,
  type Proc,
  seedRows,
  startTicker,
  tableRows,
  useLondiste,
  waitSynced,
} from './helpers.js';

const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'ev';
let root: LNode;
let leaf: LNode;
let rootWorker: Proc;
let leafWorker: Proc;
let stopTicker: () => Promise<void>;
const why = () => `--- root\n${londiste.log(root)}\n--- leaf\n${londiste.log(leaf)}`;

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  const ticker = startTicker(await test.connect({ database: root.config.database as string }));
  stopTicker = () => ticker.stop();
  for (const t of ['public.e1', 'public.e2', 'public.e3']) {
    await addRootTable(root, queue, t);
    await seedRows(root.db, t, 50);
    await addReplicaTable(leaf, queue, t);
  }
  rootWorker = londiste.startWorker(londiste.writeIni(root, queue));
  leafWorker = londiste.startWorker(londiste.writeIni(leaf, queue));
  await waitSynced(root, leaf, queue, ['public.e1', 'public.e2', 'public.e3'], 120_000, why);
}, 180_000);

afterAll(async () => {
  for (const w of [rootWorker, leafWorker]) w?.child.kill('SIGINT');
  await Promise.all([rootWorker?.exited, leafWorker?.exited]);
  await stopTicker?.();
});

/** The root side of `londiste execute`: run and record the script, send it on as EXECUTE. */
async function executeOnRoot(file: string, sql: string, attrs: string | null, rootSql = sql) {
  await root.db.query('begin');
  await root.db.query("select londiste.set_session_replication_role('local', true)");
  const { rows } = await root.db.query(
    'select * from londiste.execute_start($1, $2, $3, true, $4)',
    [queue, file, sql, attrs],
  );
  expect(rows[0]?.ret_code).toBe(200);
  await root.db.query(rootSql);
  await root.db.query('select * from londiste.execute_finish($1, $2)', [queue, file]);
  await root.db.query('commit');
}

async function columns(db: LNode['db'], table: string) {
  const { rows } = await db.query(
    'select attname from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum',
    [table],
  );
  return rows.map((r) => r.attname);
}

describe('replay of events besides rows', () => {
  it('truncate, then rows again', async () => {
    await root.db.query('truncate public.e2');
    await root.db.query("insert into public.e2 (id, v) values (1, 'after truncate')");
    await waitSynced(root, leaf, queue, ['public.e2'], 60_000, why);
    expect(await tableRows(leaf.db, 'public.e2')).toEqual([{ id: 1, v: 'after truncate', n: 0 }]);
  });

  it('EXECUTE at its queue position: attributes, tags, once per file', async () => {
    await root.db.query("insert into public.e1 (id, v) values (1001, 'before ddl')");
    await executeOnRoot(
      'add-col.sql',
      'alter table @public.e1@ add column extra text',
      'Local-Table=public.e1',
      'alter table public.e1 add column extra text',
    );
    // Rows written after the DDL carry the new column: replay must have run it first.
    await root.db.query("insert into public.e1 (id, v, extra) values (1002, 'after ddl', 'x')");
    await executeOnRoot(
      'not-here.sql',
      'create table public.not_here (id int)',
      'Need-Table=public.nowhere',
      'select 1',
    );
    await executeOnRoot(
      'plain.sql',
      'create table public.made_by_execute (id int primary key)',
      null,
    );
    await waitSynced(root, leaf, queue, ['public.e1'], 60_000, why);
    expect(await columns(leaf.db, 'public.e1')).toEqual(['id', 'v', 'n', 'extra']);
    expect(await tableRows(leaf.db, 'public.e1')).toEqual(await tableRows(root.db, 'public.e1'));
    const made = await leaf.db.query(
      "select to_regclass('public.made_by_execute') as a, to_regclass('public.not_here') as b",
    );
    expect(made.rows[0]).toEqual({ a: 'made_by_execute', b: null });
    const applied = await leaf.db.query(
      'select execute_file from londiste.applied_execute order by 1',
    );
    expect(applied.rows.map((r) => r.execute_file)).toEqual([
      'add-col.sql',
      'not-here.sql',
      'plain.sql',
    ]);
  });

  it('sequences: the root worker publishes, the leaf moves its sequence forward', async () => {
    await root.db.query('create sequence public.s1');
    await leaf.db.query('create sequence public.s1');
    const added = await root.db.query('select * from londiste.local_add_seq($1, $2)', [
      queue,
      'public.s1',
    ]);
    expect(added.rows[0]?.ret_code).toBe(200);
    // The leaf knows the sequence once update-seq came through; then it adds it locally.
    await poll(
      async () =>
        (await leaf.db.query('select * from londiste.local_add_seq($1, $2)', [queue, 'public.s1']))
          .rows[0]?.ret_code,
      (code) => code === 200 || code === 201,
      60_000,
      (code) => `local_add_seq on the leaf: ${code}\n${why()}`,
    );
    await root.db.query('select nextval($1) from generate_series(1, 20000)', ['public.s1']);
    const rootValue = BigInt(
      (await root.db.query('select last_value::text as v from public.s1')).rows[0]?.v,
    );
    await poll(
      async () =>
        BigInt((await leaf.db.query('select last_value::text as v from public.s1')).rows[0]?.v),
      (v) => v >= rootValue,
      60_000,
      (v) => `leaf sequence at ${v}, root at ${rootValue}\n${why()}`,
    );
  });

  it('an unknown handler: one clear line, retried, nothing lost once fixed', async () => {
    const set = (attrs: string | null) =>
      leaf.db.query('select * from londiste.local_set_table_attrs($1, $2, $3)', [
        queue,
        'public.e3',
        attrs,
      ]);
    await set('handler=nosuch');
    await root.db.query("insert into public.e3 (id, v) values (2001, 'while broken')");
    await root.db.query('select pgq.force_tick($1)', [queue]);
    await poll(
      async () => londiste.log(leaf),
      (text) => /table public\.e3: cannot use its handler .*Unknown handler: nosuch/.test(text),
      60_000,
      () => why(),
    );
    expect(leafWorker.child.exitCode).toBeNull();
    await set(null);
    await waitSynced(root, leaf, queue, ['public.e3'], 60_000, why);
    expect(await tableRows(leaf.db, 'public.e3')).toEqual(await tableRows(root.db, 'public.e3'));
  });
});
