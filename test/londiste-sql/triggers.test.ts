/**
 * londiste.create_trigger and the triggers it makes: the definition for each flag
 * combination, SKIP, deny on leaves, a destination table, re-creation on changed arguments,
 * the 403/405 refusals; and that the triggers really emit the events a replica applies
 * (read back through the pgq consumer API).
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createRoot, createSubscriber, one, readEvents, triggerDefs } from './helpers.js';

const test = useTestDatabase();
let db: pg.Client;
let tables = 0;

beforeAll(async () => {
  db = await test.connect();
  await createRoot(db, 'tq');
});

async function freshTable(columns = 'id int primary key, v text') {
  tables += 1;
  const name = `tt${tables}`;
  await db.query(`create table ${name} (${columns})`);
  return `public.${name}`;
}

async function createTrigger(table: string, args: string[], type = 'root', dest = table) {
  return one(db, 'select * from londiste.create_trigger($1, $2, $3, $4, $5)', [
    'tq',
    table,
    args,
    dest,
    type,
  ]);
}

const rowDef = (table: string, when: string, fn: string, args = '') =>
  `CREATE TRIGGER _londiste_tq ${when} ON ${table} FOR EACH ROW EXECUTE FUNCTION pgq.${fn}('tq'${args})`;

describe('create_trigger definitions', () => {
  it.each([
    [[], 'AFTER INSERT OR DELETE OR UPDATE', 'logutriga', ''],
    [['tgflags=B'], 'BEFORE INSERT OR DELETE OR UPDATE', 'logutriga', ''],
    [['tgflags=AI'], 'AFTER INSERT', 'logutriga', ''],
    [['tgflags=UD'], 'AFTER DELETE OR UPDATE', 'logutriga', ''],
    [['tgflags=BIUQ'], 'BEFORE INSERT OR UPDATE', 'sqltriga', ''],
    [['tgflags=J', 'backup'], 'AFTER INSERT OR DELETE OR UPDATE', 'jsontriga', ", 'backup'"],
    [
      ['tgflags=L', 'ignore=v', 'when=id>0'],
      'AFTER INSERT OR DELETE OR UPDATE',
      'logutriga',
      ", 'ignore=v', 'when=id>0'",
    ],
    [['tgflags=bx'], 'BEFORE INSERT OR DELETE OR UPDATE', 'logutriga', ''],
  ])('args %j give %s ... pgq.%s', async (args, when, fn, rest) => {
    const table = await freshTable();
    expect(await createTrigger(table, args)).toEqual({
      ret_code: 200,
      ret_note: 'OK',
      trigger_name: null,
    });
    expect(await triggerDefs(db, table)).toEqual({
      _londiste_tq: rowDef(table, when, fn, rest),
      _londiste_tq_truncate: `CREATE TRIGGER _londiste_tq_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION pgq.sqltriga('tq')`,
    });
  });

  it('a SKIP trigger is zzz__londiste_<queue> with SKIP last; on a leaf deny follows', async () => {
    const table = await freshTable();
    await createTrigger(table, ['tgflags=BS', 'backup'], 'leaf');
    const defs = await triggerDefs(db, table);
    expect(defs.zzz__londiste_tq).toBe(
      `CREATE TRIGGER zzz__londiste_tq BEFORE INSERT OR DELETE OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION pgq.logutriga('tq', 'backup', 'SKIP', 'deny')`,
    );
    expect(defs._londiste_tq_truncate).toContain(`pgq.sqltriga('tq', 'deny')`);
  });

  it('an existing SKIP trigger is renamed zzz_<name>; an AFTER trigger beside it is 403; two are 405', async () => {
    const table = await freshTable();
    await db.query(
      `create trigger foo before insert on ${table} for each row execute procedure pgq.logutriga('x', 'SKIP')`,
    );
    expect(await createTrigger(table, [])).toMatchObject({
      ret_code: 403,
      ret_note: 'AFTER trigger cannot work with SKIP trigger(s)',
    });
    expect(await createTrigger(table, ['tgflags=BS'])).toMatchObject({ ret_code: 200 });
    const defs = await triggerDefs(db, table);
    expect(Object.keys(defs)).toEqual(['_londiste_tq', '_londiste_tq_truncate', 'zzz_foo']);
    expect(defs._londiste_tq).not.toContain('SKIP');
    await db.query(
      `create trigger bar before insert on ${table} for each row execute procedure pgq.sqltriga('y', 'SKIP')`,
    );
    expect(await createTrigger(table, ['tgflags=BS'])).toMatchObject({
      ret_code: 405,
      ret_note: 'Multiple SKIP triggers',
    });
  });

  it('a destination table gets the trigger with ev_extra1 = the set table; same args keep it, changed args re-create it', async () => {
    const table = await freshTable();
    const dest = await freshTable();
    await createTrigger(table, ['tgflags=BI'], 'branch', dest);
    const first = await one(
      db,
      `select oid from pg_trigger where tgname = '_londiste_tq' and tgrelid = $1::regclass`,
      [dest],
    );
    expect((await triggerDefs(db, dest))._londiste_tq).toBe(
      `CREATE TRIGGER _londiste_tq BEFORE INSERT ON ${dest} FOR EACH ROW EXECUTE FUNCTION pgq.logutriga('tq', 'ev_extra1=''${table}''')`,
    );
    await createTrigger(table, ['tgflags=BI'], 'branch', dest);
    const same = await one(
      db,
      `select oid from pg_trigger where tgname = '_londiste_tq' and tgrelid = $1::regclass`,
      [dest],
    );
    expect(same.oid).toBe(first.oid);
    await createTrigger(table, ['tgflags=BI', 'backup'], 'branch', dest);
    expect((await triggerDefs(db, dest))._londiste_tq).toContain(`'backup'`);
    expect(await triggerDefs(db, table)).toEqual({});
  });

  it('no_triggers and virtual_table create nothing (201); a missing table and a NULL destination fail in one line', async () => {
    const table = await freshTable();
    expect(await createTrigger(table, ['no_triggers'])).toMatchObject({
      ret_code: 201,
      ret_note: 'Trigger not created',
    });
    expect(await triggerDefs(db, table)).toEqual({});
    await expect(createTrigger('public.nosuch', [])).rejects.toThrow(
      'relation "public.nosuch" does not exist',
    );
    await expect(createTrigger(table, [], 'root', null as unknown as string)).rejects.toThrow(
      'londiste.create_trigger: destination table is NULL',
    );
  });
});

describe('the triggers emit what replicas apply', () => {
  it('logutriga (default): insert, update, delete and truncate of a table with a hostile name', async () => {
    await db.query(`create schema "Sch ü"`);
    await db.query(`create table "Sch ü"."T.'x""" (id int primary key, v text)`);
    const name = `Sch ü.T.'x"`;
    expect(await one(db, 'select * from londiste.local_add_table($1, $2)', ['tq', name])).toEqual({
      ret_code: 200,
      ret_note: `Table added: ${name}`,
    });
    expect(await readEvents(db, 'tq')).toEqual([
      { ev_type: 'londiste.add-table', ev_data: name, ev_extra1: null, ev_extra2: null },
    ]);
    const quoted = `"Sch ü"."T.'x"""`;
    await db.query(`insert into ${quoted} values (1, 'a b')`);
    await db.query(`update ${quoted} set v = 'c' where id = 1`);
    await db.query(`delete from ${quoted} where id = 1`);
    await db.query(`truncate ${quoted}`);
    expect(await readEvents(db, 'tq')).toEqual([
      { ev_type: 'I:id', ev_data: 'id=1&v=a+b', ev_extra1: name, ev_extra2: null },
      { ev_type: 'U:id', ev_data: 'id=1&v=c', ev_extra1: name, ev_extra2: null },
      { ev_type: 'D:id', ev_data: 'id=1&v=c', ev_extra1: name, ev_extra2: null },
      { ev_type: 'R', ev_data: '', ev_extra1: name, ev_extra2: null },
    ]);
  });

  it('sqltriga with backup, jsontriga, and a BEFORE SKIP trigger that keeps rows out', async () => {
    const q = await freshTable();
    const j = await freshTable();
    const s = await freshTable();
    await one(db, 'select * from londiste.local_add_table($1, $2, $3)', [
      'tq',
      q,
      ['tgflags=Q', 'backup'],
    ]);
    await one(db, 'select * from londiste.local_add_table($1, $2, $3)', ['tq', j, ['tgflags=IJ']]);
    await one(db, 'select * from londiste.local_add_table($1, $2, $3)', [
      'tq',
      s,
      ['tgflags=BI', 'SKIP'],
    ]);
    await readEvents(db, 'tq');
    await db.query(`insert into ${q} values (1, 'x')`);
    await db.query(`update ${q} set v = 'y'`);
    await db.query(`insert into ${j} values (2, 'z')`);
    await db.query(`insert into ${s} values (3, 'w')`);
    const got = await readEvents(db, 'tq');
    expect(got).toEqual([
      { ev_type: 'I', ev_data: `(id,v) values ('1','x')`, ev_extra1: q, ev_extra2: null },
      { ev_type: 'U', ev_data: `v='y' where id='1'`, ev_extra1: q, ev_extra2: 'id=1&v=x' },
      {
        ev_type: `{"op":"INSERT","table":["public","${j.slice(7)}"],"pkey":["id"]}`,
        ev_data: '{"id":2,"v":"z"}',
        ev_extra1: j,
        ev_extra2: null,
      },
      { ev_type: 'I:id', ev_data: 'id=3&v=w', ev_extra1: s, ev_extra2: null },
    ]);
    const kept = await one(db, `select count(*)::int as n from ${s}`);
    expect(kept.n).toBe(0);
  });

  it('a leaf table refuses local writes (deny); replay with session_replication_role = replica is not stopped', async () => {
    await createSubscriber(db, 'lq', 'leaf');
    await db.query(`create table leaf_t (id int primary key)`);
    await db.query(`select * from londiste.global_add_table('lq', 'leaf_t')`);
    expect(
      await one(db, `select * from londiste.local_add_table('lq', 'leaf_t', array['expect_sync'])`),
    ).toEqual({
      ret_code: 200,
      ret_note: 'Table added: public.leaf_t',
    });
    await expect(db.query('insert into leaf_t values (1)')).rejects.toThrow(
      `Table 'public.leaf_t' to queue 'lq': change not allowed (INSERT)`,
    );
    await db.query('begin');
    await db.query(`set local session_replication_role = 'replica'`);
    await db.query('insert into leaf_t values (1)');
    await db.query('commit');
    expect((await one(db, 'select count(*)::int as n from leaf_t')).n).toBe(1);
  });
});
