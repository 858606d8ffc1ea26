/**
 * session_replication_role and the pgq triggers: `local` makes them do nothing (the change
 * happens, no event, even with SKIP or deny); in `replica` ordinary triggers do not fire at
 * all, which is how replay avoids loops; ENABLE ALWAYS triggers still work there.
 */
import type pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createTrigger, events, newQueue, tableRows } from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
});

afterEach(async () => {
  await client.query('reset session_replication_role');
});

describe('replication roles', () => {
  it('local: no event, the change happens, even with SKIP and deny', async () => {
    const queue = await newQueue(client);
    await client.query('create table rr_local (id int primary key, v text)');
    for (const fn of ['jsontriga', 'logutriga', 'sqltriga'] as const) {
      await client.query(createTrigger(fn, 'rr_local', [queue]));
    }
    await client.query(
      createTrigger('logutriga', 'rr_local', [queue, 'SKIP'], { timing: 'BEFORE', name: 'skip' }),
    );
    await client.query(createTrigger('logutriga', 'rr_local', [queue, 'deny'], { name: 'deny' }));
    await client.query(
      createTrigger('sqltriga', 'rr_local', [queue, 'deny'], {
        on: 'TRUNCATE',
        level: 'STATEMENT',
        name: 'deny_truncate',
      }),
    );
    await client.query('set session_replication_role = local');
    await client.query(`insert into rr_local values (1, 'a'), (2, 'b')`);
    await client.query(`update rr_local set v = 'c' where id = 1`);
    await client.query('delete from rr_local where id = 2');
    expect(await tableRows(client, 'rr_local')).toEqual(['(1,c)']);
    await client.query('truncate rr_local');
    expect(await tableRows(client, 'rr_local')).toEqual([]);
    expect(await events(client, queue)).toEqual([]);
  });

  it('replica: ordinary triggers do not fire; ENABLE ALWAYS ones do', async () => {
    const queue = await newQueue(client);
    await client.query('create table rr_replica (id int primary key, v text)');
    await client.query(createTrigger('logutriga', 'rr_replica', [queue, 'deny']));
    await client.query(createTrigger('sqltriga', 'rr_replica', [queue], { name: 'always' }));
    await client.query('alter table rr_replica enable always trigger always');
    await client.query('set session_replication_role = replica');
    await client.query(`insert into rr_replica values (1, 'a')`);
    await client.query(`update rr_replica set v = 'b'`);
    expect(await tableRows(client, 'rr_replica')).toEqual(['(1,b)']);
    expect((await events(client, queue)).map((ev) => [ev.ev_type, ev.ev_data])).toEqual([
      ['I', `(id,v) values ('1','a')`],
      ['U', `v='b' where id='1'`],
    ]);
  });

  it('origin: triggers fire as usual', async () => {
    const queue = await newQueue(client);
    await client.query('create table rr_origin (id int primary key)');
    await client.query(createTrigger('logutriga', 'rr_origin', [queue]));
    await client.query('set session_replication_role = origin');
    await client.query('insert into rr_origin values (1)');
    expect((await events(client, queue)).map((ev) => ev.ev_data)).toEqual(['id=1']);
  });
});
