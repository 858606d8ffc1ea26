/**
 * Table registration and states: local_add_table (root, branch, merge leaf), the error codes
 * and texts, hostile and bad names, local_remove_table (with dropped DDL restored),
 * global_add/remove_table, local_set_table_*, get_table_list and local_show_missing.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createRoot, createSubscriber, readEvents, ret, triggerDefs } from './helpers.js';

const test = useTestDatabase();
let db: pg.Client;

const add = (q: string, t: string, args: string[] | null = null, attrs: string | null = null) =>
  ret(db, 'select * from londiste.local_add_table($1, $2, $3, $4)', [q, t, args, attrs]);
const list = async (q: string) =>
  (await db.query('select * from londiste.get_table_list($1)', [q])).rows;

beforeAll(async () => {
  db = await test.connect();
  await createRoot(db, 'rq');
  await createSubscriber(db, 'bq', 'branch');
  await db.query('create table t1 (id int primary key, v text)');
  await db.query('create table nopk (id int)');
  await db.query('create schema "Other ü"');
  await db.query(`create table "Other ü"."Mixed.Case'1" (id int primary key)`);
  await db.query('create table survivor (id int)');
});

describe('local_add_table on the root', () => {
  it('adds, announces the table to the set, and reports repeats and changed attributes', async () => {
    expect(await add('rq', 't1')).toEqual({ code: 200, note: 'Table added: public.t1' });
    expect(await readEvents(db, 'rq')).toEqual([
      { ev_type: 'londiste.add-table', ev_data: 'public.t1', ev_extra1: null, ev_extra2: null },
    ]);
    expect(await add('rq', 'public.t1', ['backup'])).toEqual({
      code: 200,
      note: 'Table already added: public.t1',
    });
    expect(await add('rq', 't1', [], 'handler=x')).toEqual({
      code: 410,
      note: 'Table public.t1 already added, but with different args: ',
    });
    expect((await list('rq'))[0]).toMatchObject({
      table_name: 'public.t1',
      local: true,
      merge_state: 'ok',
      copy_pos: 0,
    });
  });

  it('refuses with upstream codes and texts, writing nothing', async () => {
    expect(await add('rq', 'missing')).toEqual({
      code: 404,
      note: 'Table does not exist: public.missing',
    });
    expect(await add('rq', 'nopk')).toEqual({
      code: 400,
      note: 'Primary key missing on table: public.nopk',
    });
    expect(await add('nosuch', 't1')).toEqual({ code: 400, note: 'No such set: nosuch' });
    expect(await add('rq', 't1', ['merge_all', 'no_merge'])).toEqual({
      code: 405,
      note: 'Cannot use merge-all and no-merge together',
    });
    expect(await add('rq', 'Survivor')).toEqual({
      code: 404,
      note: 'Table does not exist: public.Survivor',
    });
    expect(await add('rq', 'survivor; drop table survivor')).toEqual({
      code: 404,
      note: 'Table does not exist: public.survivor; drop table survivor',
    });
    const { rows } = await db.query(`select to_regclass('survivor') is not null as here`);
    expect(rows[0]?.here).toBe(true);
    expect((await list('rq')).map((r) => r.table_name)).toEqual(['public.t1']);
  });

  it('takes a table of another schema with a quoted, dotted, unicode name; a dropped table is missing', async () => {
    const name = `Other ü.Mixed.Case'1`;
    expect(await add('rq', name, ['tgflags=BI'])).toEqual({
      code: 200,
      note: `Table added: ${name}`,
    });
    expect(Object.keys(await triggerDefs(db, `"Other ü"."Mixed.Case'1"`))).toEqual([
      '_londiste_rq',
      '_londiste_rq_truncate',
    ]);
    await db.query('create table gone (id int primary key)');
    await db.query('drop table gone');
    expect(await add('rq', 'gone')).toEqual({
      code: 404,
      note: 'Table does not exist: public.gone',
    });
    expect(await add('rq', 'ghost', ['virtual_table'])).toEqual({
      code: 200,
      note: 'Table added with no triggers: public.ghost',
    });
  });

  it('local_remove_table takes the table out of the set with an event and its triggers', async () => {
    expect(await ret(db, `select * from londiste.local_remove_table('rq', 'ghost')`)).toEqual({
      code: 200,
      note: 'Table removed: public.ghost',
    });
    expect(await ret(db, `select * from londiste.local_remove_table('rq', 'ghost')`)).toEqual({
      code: 400,
      note: 'Table not found: public.ghost',
    });
    const name = `Other ü.Mixed.Case'1`;
    await ret(db, 'select * from londiste.local_remove_table($1, $2)', ['rq', name]);
    expect(await triggerDefs(db, `"Other ü"."Mixed.Case'1"`)).toEqual({});
    const events = await readEvents(db, 'rq');
    expect(
      events.filter((e) => e.ev_type === 'londiste.remove-table').map((e) => e.ev_data),
    ).toEqual(['public.ghost', name]);
  });
});

describe('a branch', () => {
  it('needs the table in the set first; copies unless expect_sync; skip_truncate becomes an attribute', async () => {
    await db.query('create table b1 (id int primary key)');
    await db.query('create table b2 (id int primary key)');
    expect(await add('bq', 'b1')).toEqual({
      code: 404,
      note: 'Table not available on queue: public.b1',
    });
    expect(await ret(db, `select * from londiste.global_add_table('bq', 'b1')`)).toEqual({
      code: 200,
      note: 'Table added: b1',
    });
    expect(await ret(db, `select * from londiste.global_add_table('bq', 'public.b1')`)).toEqual({
      code: 200,
      note: 'Table already added: public.b1',
    });
    expect(await ret(db, `select * from londiste.global_add_table('nosuch', 'b1')`)).toEqual({
      code: 400,
      note: 'No such queue: nosuch',
    });
    await ret(db, `select * from londiste.global_add_table('bq', 'b2')`);
    expect(await add('bq', 'b1', ['skip_truncate'], 'handler=h')).toEqual({
      code: 200,
      note: 'Table added: public.b1',
    });
    expect(await add('bq', 'b2', ['expect_sync'])).toEqual({
      code: 200,
      note: 'Table added: public.b2',
    });
    expect((await list('bq')).map((r) => [r.table_name, r.merge_state, r.table_attrs])).toEqual([
      ['public.b1', null, 'handler=h&skip_truncate=1'],
      ['public.b2', 'ok', null],
    ]);
  });

  it('moves copy states, stores attributes and dropped DDL, and restores the DDL on removal', async () => {
    const state = (t: string, snap: string | null, s: string | null) =>
      ret(db, 'select * from londiste.local_set_table_state($1, $2, $3, $4)', ['bq', t, snap, s]);
    expect(await state('b1', '10:20:', 'in-copy')).toEqual({
      code: 200,
      note: `Table public.b1 state set to 'in-copy'`,
    });
    expect(await state('public.zz', null, 'ok')).toEqual({
      code: 404,
      note: 'No such table: public.zz',
    });
    expect(
      await ret(db, `select * from londiste.local_set_table_attrs('bq', 'public.b1', 'a=1')`),
    ).toEqual({
      code: 200,
      note: 'public.b1: Table attributes stored',
    });
    expect(
      await ret(db, `select * from londiste.local_set_table_attrs('bq', 'b1', 'a=1')`),
    ).toEqual({
      code: 404,
      note: 'no such local table: b1',
    });
    // As replay writes on a branch (its queue takes no local events).
    await db.query('begin');
    await db.query(`set local session_replication_role = 'replica'`);
    await db.query('insert into b1 values (1)');
    await db.query('commit');
    expect(
      await ret(
        db,
        `select * from londiste.local_set_table_struct('bq', 'public.b1', 'create index b1_x on b1 (id)')`,
      ),
    ).toEqual({ code: 200, note: 'Table struct stored' });
    await expect(
      db.query(`select * from londiste.local_set_table_struct('bq', 'public.b2', 'x')`),
    ).rejects.toThrow(/check constraint/);
    expect((await list('bq'))[0]).toMatchObject({
      merge_state: 'in-copy',
      custom_snapshot: '10:20:',
      table_attrs: 'a=1',
      dropped_ddl: 'create index b1_x on b1 (id)',
    });
    expect(await ret(db, `select * from londiste.local_remove_table('bq', 'b1')`)).toEqual({
      code: 200,
      note: 'Table removed: public.b1',
    });
    const { rows } = await db.query(
      `select (select count(*)::int from b1) as n, to_regclass('b1_x') is not null as idx`,
    );
    expect(rows[0]).toEqual({ n: 0, idx: true });
    expect(await ret(db, `select * from londiste.local_remove_table('bq', 'b1')`)).toEqual({
      code: 400,
      note: 'Table not registered locally: public.b1',
    });
    expect((await db.query(`select * from londiste.local_show_missing('bq')`)).rows).toEqual([
      { obj_kind: 'r', obj_name: 'public.b1' },
    ]);
    expect(await ret(db, `select * from londiste.global_remove_table('bq', 'b2')`)).toEqual({
      code: 200,
      note: 'Table removed: b2',
    });
    expect(await triggerDefs(db, 'b2')).toEqual({});
  });
});

describe('merge leaves', () => {
  it('need merge-all for a table of several sources; the combined root gets the table; copies coordinate', async () => {
    await createRoot(db, 'cq');
    await createSubscriber(db, 'p1', 'leaf', 'cq');
    await createSubscriber(db, 'p2', 'leaf', 'cq');
    await db.query('create table m (id int primary key)');
    for (const q of ['p1', 'p2'])
      await ret(db, `select * from londiste.global_add_table($1, 'm')`, [q]);
    expect(await add('p1', 'm')).toEqual({
      code: 405,
      note: 'Found multiple sources for table public.m, use merge-all or no-merge to continue',
    });
    await ret(db, `select * from londiste.local_remove_table('p1', 'm')`);
    expect(await add('p1', 'm', ['merge_all'])).toEqual({
      code: 200,
      note: 'Table added: public.m',
    });
    expect((await list('p2'))[0]).toMatchObject({ table_name: 'public.m', local: true });
    expect((await list('cq'))[0]).toMatchObject({
      table_name: 'public.m',
      local: true,
      merge_state: 'ok',
    });
    for (const q of ['p1', 'p2'])
      await ret(
        db,
        `select * from londiste.local_set_table_state($1, 'public.m', null, 'in-copy')`,
        [q],
      );
    const roles = async () =>
      Promise.all(
        ['p1', 'p2'].map(
          async (q) =>
            (await db.query(`select * from londiste._coordinate_copy($1, 'public.m')`, [q]))
              .rows[0],
        ),
      );
    expect(await roles()).toEqual([
      { copy_role: 'lead', copy_pos: 0 },
      { copy_role: 'wait-copy', copy_pos: 1 },
    ]);
    await ret(db, `select * from londiste.local_set_table_struct('p1', 'public.m', 'select 1')`);
    expect((await roles())[1]).toEqual({ copy_role: 'wait-replay', copy_pos: 1 });
  });
});
