/**
 * pgq.sqltriga(): partial-SQL events. ev_type `I`/`U`/`D`; ev_data `(cols) values (...)`,
 * `changed='v' where key='k' and ...`, or `key='k' and ...`; identifiers quoted only when
 * needed, values as quote_literal() writes them; ev_extra1 `schema.table`.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  createTrigger,
  events,
  hostileChanges,
  hostileExtra1,
  hostileTable,
  hostileTableDdl,
  newQueue,
  typeAndData,
} from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
});

describe('pgq.sqltriga', () => {
  it('queues insert, update, no-op update and delete with a composite key', async () => {
    const queue = await newQueue(client);
    await client.query('create table st_basic (a int, b text, c int, primary key (c, a))');
    await client.query(createTrigger('sqltriga', 'st_basic', [queue]));
    await client.query(`insert into st_basic values (1, 'x y', 2)`);
    await client.query(`update st_basic set b = 'z'`);
    await client.query('update st_basic set b = b');
    await client.query('update st_basic set b = null');
    await client.query('delete from st_basic');
    const queued = await events(client, queue);
    // where-clauses list key columns in table order; a no-op update sets the first of them
    expect(queued.map((ev) => [ev.ev_type, ev.ev_data])).toEqual([
      ['I', `(a,b,c) values ('1','x y','2')`],
      ['U', `b='z' where a='1' and c='2'`],
      ['U', `a='1' where a='1' and c='2'`],
      ['U', `b=NULL where a='1' and c='2'`],
      ['D', `a='1' and c='2'`],
    ]);
    for (const ev of queued) {
      expect(ev.ev_extra1).toBe('public.st_basic');
      expect([ev.ev_extra2, ev.ev_extra3, ev.ev_extra4]).toEqual([null, null, null]);
    }
  });

  it('sets only the changed columns, NULLs and backslashes included', async () => {
    const queue = await newQueue(client);
    await client.query('create table st_set (id int primary key, a text, b text, c int)');
    await client.query(createTrigger('sqltriga', 'st_set', [queue]));
    await client.query(`insert into st_set values (1, 'a', null, 3)`);
    await client.query(`update st_set set a = null, b = E'back\\\\slash''s', c = c`);
    await client.query(`update st_set set b = '', c = null`);
    expect(await typeAndData(client, queue)).toEqual([
      ['I', `(id,a,b,c) values ('1','a',null,'3')`],
      ['U', `a=NULL,b=E'back\\\\slash''s' where id='1'`],
      ['U', `b='',c=NULL where id='1'`],
    ]);
  });

  it('quotes hostile identifiers and keeps the schema.table unquoted in ev_extra1', async () => {
    const queue = await newQueue(client);
    await client.query(hostileTableDdl);
    await client.query(createTrigger('sqltriga', hostileTable, [queue]));
    for (const change of hostileChanges) await client.query(change);
    const queued = await events(client, queue);
    expect(queued.map((ev) => [ev.ev_type, ev.ev_data])).toEqual([
      [
        'I',
        `("Id","sel ect","select","ünï","a=b&c","Order") values ('1','it''s','x&y=z','ü',null,'7')`,
      ],
      ['U', `"sel ect"='a b',"a=b&c"='3' where "Id"='1' and "Order"='7'`],
      ['U', `"Id"='1' where "Id"='1' and "Order"='7'`],
      ['D', `"Id"='1' and "Order"='7'`],
    ]);
    for (const ev of queued) expect(ev.ev_extra1).toBe(hostileExtra1);
  });

  it('quotes an identifier exactly when quote_ident() does', async () => {
    const queue = await newQueue(client);
    await client.query(`create table st_idents (id int primary key, "user" int, "name" int,
      "Abc" int, a1 int, "1a" int, _x int, "a$b" int, "between" int, "int" int, "left" int,
      "all" int, "type" int, "é" int)`);
    await client.query(createTrigger('sqltriga', 'st_idents', [queue]));
    await client.query('insert into st_idents values (1,1,1,1,1,1,1,1,1,1,1,1,1,1)');
    expect(await typeAndData(client, queue)).toEqual([
      [
        'I',
        `(id,"user",name,"Abc",a1,"1a",_x,"a$b","between","int","left","all",type,"é") values ` +
          `('1','1','1','1','1','1','1','1','1','1','1','1','1','1')`,
      ],
    ]);
  });

  it('replays to the same rows', async () => {
    const queue = await newQueue(client);
    const columns = `(id int, "Grp" text, v text, n numeric, primary key (id, "Grp"))`;
    await client.query(`create table st_src ${columns}; create table st_dst ${columns}`);
    await client.query(createTrigger('sqltriga', 'st_src', [queue]));
    await client.query(
      `insert into st_src values (1, 'a', E'x\\'y\\\\z', 1.5), (2, 'b', null, null)`,
    );
    await client.query(`update st_src set v = E'new\\nline', n = n * 2 where id = 1`);
    await client.query('update st_src set v = v');
    await client.query('delete from st_src where id = 2');
    for (const ev of await events(client, queue)) {
      const sql =
        ev.ev_type === 'I'
          ? `insert into st_dst ${ev.ev_data}`
          : ev.ev_type === 'U'
            ? `update only st_dst set ${ev.ev_data}`
            : `delete from only st_dst where ${ev.ev_data}`;
      await client.query(sql);
    }
    const { rows } = await client.query(
      `select (select array_agg(t::text order by id) from st_src t) as src,
              (select array_agg(t::text order by id) from st_dst t) as dst`,
    );
    expect(rows[0].dst).toEqual(rows[0].src);
    expect(rows[0].src).toEqual([`(1,a,"new\nline",3.0)`]);
  });

  it('compares old and new values in their text form', async () => {
    // 1.0 → 1.00 is equal by numeric =, but a replica would keep the old text: it is a change
    const queue = await newQueue(client);
    await client.query('create table st_text (id int primary key, n numeric, f float8)');
    await client.query(`insert into st_text values (1, 1.0, 0)`);
    await client.query(createTrigger('sqltriga', 'st_text', [queue]));
    await client.query('update st_text set n = 1.00');
    await client.query('update st_text set n = 1.00');
    await client.query(`update st_text set f = '-0'`);
    expect(await typeAndData(client, queue)).toEqual([
      ['U', `n='1.00' where id='1'`],
      ['U', `id='1' where id='1'`],
      ['U', `f='-0' where id='1'`],
    ]);
  });

  it('inserts into a table without a key', async () => {
    const queue = await newQueue(client);
    await client.query('create table st_nokey (a int, b text)');
    await client.query(createTrigger('sqltriga', 'st_nokey', [queue]));
    await client.query(`insert into st_nokey values (1, 'x')`);
    expect(await typeAndData(client, queue)).toEqual([['I', `(a,b) values ('1','x')`]]);
  });
});
