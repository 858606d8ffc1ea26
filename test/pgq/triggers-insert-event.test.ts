/**
 * The pgq triggers queue through pgq.insert_event(queue, type, data, extra1, extra2, extra3,
 * extra4): replacing that function intercepts every trigger event (tools rely on it).
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createTrigger, events, newQueue } from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
});

describe('pgq.insert_event as the trigger sink', () => {
  it('a replaced 7-argument insert_event receives every trigger event', async () => {
    const queue = await newQueue(client);
    await client.query(`
      create table ie_calls (n serial, args text[]);
      create table ie_data (id int primary key, v text);
      create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text,
          ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
      returns bigint language sql as $$
        insert into ie_calls (args)
        values (array[queue_name, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4])
        returning -n::bigint
      $$;`);
    await client.query(createTrigger('logutriga', 'ie_data', [queue, 'backup']));
    await client.query(createTrigger('sqltriga', 'ie_data', [queue, `ev_extra4='x'`]));
    await client.query(
      createTrigger('jsontriga', 'ie_data', [queue], { on: 'TRUNCATE', level: 'STATEMENT' }),
    );
    await client.query(`insert into ie_data values (1, 'a')`);
    await client.query(`update ie_data set v = 'b'`);
    await client.query('truncate ie_data');
    const { rows } = await client.query<{ args: (string | null)[] }>(
      'select args from ie_calls order by n',
    );
    expect(rows.map((row) => row.args)).toEqual([
      [queue, 'I:id', 'id=1&v=a', 'public.ie_data', null, null, null],
      [queue, 'I', `(id,v) values ('1','a')`, 'public.ie_data', null, null, 'x'],
      [queue, 'U:id', 'id=1&v=b', 'public.ie_data', 'id=1&v=a', null, null],
      [queue, 'U', `v='b' where id='1'`, 'public.ie_data', null, null, 'x'],
      [
        queue,
        '{"op":"TRUNCATE","table":["public","ie_data"],"pkey":["id"]}',
        '{}',
        'public.ie_data',
        null,
        null,
        null,
      ],
    ]);
    expect(await events(client, queue)).toEqual([]);
  });

  it('sees the events of the generated code, every argument and truncate, and can pass them on', async () => {
    const queue = await newQueue(client);
    await client.query(`
      create table ie_seen (n serial, args text[]);
      create table ie_fast (id int primary key, v text);
      create table ie_args (id int primary key, v text, w text);
      create table ie_trunc (id int primary key);
      create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text,
          ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
      returns bigint language plpgsql as $$
      begin
        insert into ie_seen (args)
        values (array[queue_name, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4]);
        -- then the real insert, for every queue
        return pgq.insert_event_raw(queue_name, null, null, null, null, ev_type, ev_data,
                                    ev_extra1, ev_extra2, ev_extra3, ev_extra4);
      end $$;`);
    // the generated code of a queue-only trigger
    await client.query(createTrigger('logutriga', 'ie_fast', [queue]));
    // when= and ignore=, an expression, SKIP in a BEFORE trigger
    await client.query(
      createTrigger('logutriga', 'ie_args', [queue, "when=v <> 'no'", 'ignore=w'], {
        name: 'a_log',
      }),
    );
    await client.query(
      createTrigger('jsontriga', 'ie_args', [queue, 'ev_extra3=upper(v)'], { name: 'b_json' }),
    );
    await client.query('create table ie_skip (id int primary key)');
    await client.query(
      createTrigger('logutriga', 'ie_skip', [queue, 'SKIP'], { timing: 'BEFORE' }),
    );
    for (const fn of ['logutriga', 'sqltriga', 'jsontriga'] as const) {
      await client.query(
        createTrigger(fn, 'ie_trunc', [queue], {
          on: 'TRUNCATE',
          level: 'STATEMENT',
          name: `t_${fn}`,
        }),
      );
    }
    // created after the replacement: the queue's own functions are generated, ours is kept
    const other = await newQueue(client);
    await client.query(createTrigger('sqltriga', 'ie_fast', [other], { name: 'z_other' }));
    await client.query(`insert into ie_fast values (1, 'a b')`);
    await client.query(`update ie_fast set v = null`);
    await client.query('delete from ie_fast');
    await client.query(`insert into ie_args values (1, 'yes', 'w1'), (2, 'no', 'w2')`);
    await client.query(`update ie_args set w = 'w3' where id = 1`);
    await client.query('insert into ie_skip values (1)');
    await client.query('truncate ie_trunc');
    const { rows } = await client.query<{ args: (string | null)[] }>(
      'select args from ie_seen order by n',
    );
    const T = 'public.ie_trunc';
    expect(rows.map((row) => row.args)).toEqual([
      [queue, 'I:id', 'id=1&v=a+b', 'public.ie_fast', null, null, null],
      [other, 'I', `(id,v) values ('1','a b')`, 'public.ie_fast', null, null, null],
      [queue, 'U:id', 'id=1&v', 'public.ie_fast', null, null, null],
      [other, 'U', `v=NULL where id='1'`, 'public.ie_fast', null, null, null],
      [queue, 'D:id', 'id=1&v', 'public.ie_fast', null, null, null],
      [other, 'D', `id='1'`, 'public.ie_fast', null, null, null],
      // when= false for the second row; a change of the ignored column only: no event
      [queue, 'I:id', 'id=1&v=yes', 'public.ie_args', null, null, null],
      [
        queue,
        '{"op":"INSERT","table":["public","ie_args"],"pkey":["id"]}',
        '{"id":1,"v":"yes","w":"w1"}',
        'public.ie_args',
        null,
        'YES',
        null,
      ],
      [
        queue,
        '{"op":"INSERT","table":["public","ie_args"],"pkey":["id"]}',
        '{"id":2,"v":"no","w":"w2"}',
        'public.ie_args',
        null,
        'NO',
        null,
      ],
      [
        queue,
        '{"op":"UPDATE","table":["public","ie_args"],"pkey":["id"]}',
        '{"id":1,"v":"yes","w":"w3"}',
        'public.ie_args',
        null,
        'YES',
        null,
      ],
      // SKIP: the event, but not the row
      [queue, 'I:id', 'id=1', 'public.ie_skip', null, null, null],
      // truncate triggers fire in name order
      [
        queue,
        '{"op":"TRUNCATE","table":["public","ie_trunc"],"pkey":["id"]}',
        '{}',
        T,
        null,
        null,
        null,
      ],
      [queue, 'R', '', T, null, null, null],
      [queue, 'R', '', T, null, null, null],
    ]);
    // passed on: the queues hold the same events
    expect((await events(client, queue)).length).toBe(11);
    expect((await client.query('select count(*)::int as n from ie_skip')).rows[0].n).toBe(0);
    expect((await events(client, other)).length).toBe(3);
    // a new queue, and the generator itself, keep the replacement
    await client.query('select pgq._generate_insert_functions()');
    const { rows: src } = await client.query<{ mine: boolean }>(
      `select prosrc like '%ie_seen%' as mine from pg_proc
        where oid = 'pgq.insert_event(text,text,text,text,text,text,text)'::regprocedure`,
    );
    expect(src[0]?.mine).toBe(true);
  });
});
