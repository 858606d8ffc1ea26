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
});
