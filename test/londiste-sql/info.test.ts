/**
 * The smaller table functions on their own: local_change_handler, drop_table_triggers,
 * is_replica_func, root_notify_change, get_table_list and local_show_missing, with unknown
 * and NULL inputs; and which roles may call the table functions.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { canExecute, useLoginRoles } from '../harness/grants.js';
import { createRoot, createSubscriber, one, readEvents, ret, triggerDefs } from './helpers.js';

const test = useTestDatabase();
const roles = useLoginRoles(test, {
  reader: 'londiste_reader',
  writer: 'londiste_writer',
  other: null,
});
let db: pg.Client;

beforeAll(async () => {
  db = await test.connect();
  await createRoot(db, 'rq');
  await createSubscriber(db, 'bq', 'branch');
  await db.query('create table t1 (id int primary key, v text)');
  await db.query('create table "Dest" (id int primary key, v text)');
  await db.query('create sequence s1');
});

describe('local_change_handler', () => {
  it('stores the handler and re-creates the triggers with the new arguments', async () => {
    await ret(db, `select * from londiste.local_add_table('rq', 't1')`);
    expect(
      await ret(
        db,
        `select * from londiste.local_change_handler('rq', 'public.t1', array['tgflags=BI', 'backup'], 'handler=bulk')`,
      ),
    ).toEqual({ code: 200, note: 'Handler changed for table: public.t1' });
    expect((await triggerDefs(db, 't1'))._londiste_rq).toBe(
      `CREATE TRIGGER _londiste_rq BEFORE INSERT ON public.t1 FOR EACH ROW EXECUTE FUNCTION pgq.logutriga('rq', 'backup')`,
    );
    const row = await one(db, `select table_attrs from londiste.get_table_list('rq')`);
    expect(row.table_attrs).toBe('handler=bulk');
  });

  it('refuses an unknown set, a name not as stored, and a trigger that cannot be made', async () => {
    const call = (q: string | null, t: string | null, args: string[] | null) =>
      ret(db, 'select * from londiste.local_change_handler($1, $2, $3, null)', [q, t, args]);
    expect(await call('nosuch', 'public.t1', [])).toEqual({
      code: 400,
      note: 'No such set: nosuch',
    });
    expect(await call('rq', 't1', [])).toEqual({ code: 404, note: 'no such local table: t1' });
    expect(await call('rq', 'public.t1', ['virtual_table'])).toEqual({
      code: 200,
      note: 'Table handler updated with no triggers: public.t1',
    });
    await db.query(
      `create trigger sk before insert on t1 for each row execute procedure pgq.logutriga('x', 'SKIP')`,
    );
    expect(await call('rq', 'public.t1', ['tgflags=A'])).toEqual({
      code: 403,
      note: 'Trigger creation failed for table public.t1: AFTER trigger cannot work with SKIP trigger(s)',
    });
    expect(await call(null, null, null)).toEqual({ code: 400, note: null });
  });
});

describe('drop_table_triggers and is_replica_func', () => {
  it('drops the queue triggers from the destination table, by the stored name only', async () => {
    await createRoot(db, 'dq');
    expect(
      await ret(db, `select * from londiste.local_add_table('dq', 'src', null, null, 'Dest')`),
    ).toEqual({
      code: 200,
      note: 'Table added: public.src(public.Dest)',
    });
    expect(Object.keys(await triggerDefs(db, '"Dest"'))).toEqual([
      '_londiste_dq',
      '_londiste_dq_truncate',
    ]);
    await db.query(`select londiste.drop_table_triggers('dq', 'src')`);
    expect(Object.keys(await triggerDefs(db, '"Dest"'))).toHaveLength(2);
    await db.query(`select londiste.drop_table_triggers('dq', 'public.src')`);
    expect(await triggerDefs(db, '"Dest"')).toEqual({});
    await db.query(`select londiste.drop_table_triggers('nosuch', 'public.src')`);
    const { rows } = await db.query(
      `select londiste.is_replica_func('pgq.logutriga'::regproc) l, londiste.is_replica_func('pgq.jsontriga'::regproc) j,
              londiste.is_replica_func('pgq.insert_event(text,text,text)'::regprocedure) i, londiste.is_replica_func(null) n`,
    );
    expect(rows[0]).toEqual({ l: true, j: true, i: false, n: null });
  });
});

describe('root_notify_change, get_table_list, local_show_missing', () => {
  it('sends events from the root only', async () => {
    await readEvents(db, 'rq');
    expect(
      (await one(db, `select londiste.root_notify_change('rq', 'londiste.x', 'd') as r`)).r,
    ).toBe(1);
    expect(await readEvents(db, 'rq')).toEqual([
      { ev_type: 'londiste.x', ev_data: 'd', ev_extra1: null, ev_extra2: null },
    ]);
    await expect(
      db.query(`select londiste.root_notify_change('bq', 'londiste.x', 'd')`),
    ).rejects.toThrow('only root node can send events');
  });

  it('lists the set; an unknown or NULL queue gives no rows; missing objects on root and branch', async () => {
    expect((await db.query(`select * from londiste.get_table_list('nosuch')`)).rows).toEqual([]);
    expect((await db.query(`select * from londiste.get_table_list(null)`)).rows).toEqual([]);
    const missing = async (q: string) =>
      (await db.query('select * from londiste.local_show_missing($1)', [q])).rows;
    expect(await missing('rq')).toEqual([
      { obj_kind: 'S', obj_name: 'public.s1' },
      { obj_kind: 'r', obj_name: 'public.Dest' },
    ]);
    await ret(db, `select * from londiste.global_add_table('bq', 'elsewhere')`);
    await db.query(
      `insert into londiste.seq_info (queue_name, seq_name, local, last_value) values ('bq', 'public.s1', false, 1)`,
    );
    expect(await missing('bq')).toEqual([
      { obj_kind: 'S', obj_name: 'public.s1' },
      { obj_kind: 'r', obj_name: 'public.elsewhere' },
    ]);
  });
});

describe('grants', () => {
  it('readers read the lists; writers change them; others neither', async () => {
    const reading = [
      'londiste.get_table_list(text)',
      'londiste.local_show_missing(text)',
      'londiste._coordinate_copy(text,text)',
      'londiste.is_replica_func(oid)',
    ];
    const writing = [
      'londiste.local_add_table(text,text,text[],text,text)',
      'londiste.local_add_table(text,text)',
      'londiste.local_remove_table(text,text)',
      'londiste.create_trigger(text,text,text[],text,text)',
      'londiste.local_set_table_state(text,text,text,text)',
      'londiste.global_add_table(text,text)',
    ];
    for (const fn of reading) {
      expect([fn, await canExecute(test, roles.reader, fn)]).toEqual([fn, true]);
      expect([fn, await canExecute(test, roles.other, fn)]).toEqual([fn, false]);
    }
    for (const fn of writing) {
      expect([fn, await canExecute(test, roles.writer, fn)]).toEqual([fn, true]);
      expect([fn, await canExecute(test, roles.reader, fn)]).toEqual([fn, false]);
      expect([fn, await canExecute(test, roles.other, fn)]).toEqual([fn, false]);
    }
  });
});
