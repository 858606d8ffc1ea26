/**
 * pgq.logutriga(): urlencoded events. ev_type `I:`/`U:`/`D:` + key columns in key order,
 * ev_data the row (`col=val&col2&...`, NULL as the bare name), ev_extra1 `schema.table`.
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

describe('pgq.logutriga', () => {
  it('queues insert, update, no-op update and delete with a composite key', async () => {
    const queue = await newQueue(client);
    await client.query('create table lt_basic (a int, b text, c int, primary key (c, a))');
    await client.query(createTrigger('logutriga', 'lt_basic', [queue]));
    await client.query(`insert into lt_basic values (1, 'x y', 2)`);
    await client.query(`update lt_basic set b = 'z'`);
    await client.query('update lt_basic set b = b');
    await client.query('update lt_basic set b = null');
    await client.query('delete from lt_basic');
    const queued = await events(client, queue);
    // key columns in the key's order (c, a); row columns in table order
    expect(queued.map((ev) => [ev.ev_type, ev.ev_data])).toEqual([
      ['I:c,a', 'a=1&b=x+y&c=2'],
      ['U:c,a', 'a=1&b=z&c=2'],
      ['U:c,a', 'a=1&b=z&c=2'],
      ['U:c,a', 'a=1&b&c=2'],
      ['D:c,a', 'a=1&b&c=2'],
    ]);
    for (const ev of queued) {
      expect(ev.ev_extra1).toBe('public.lt_basic');
      expect([ev.ev_extra2, ev.ev_extra3, ev.ev_extra4]).toEqual([null, null, null]);
    }
  });

  it('encodes hostile schema, table and column names', async () => {
    const queue = await newQueue(client);
    await client.query(hostileTableDdl);
    await client.query(createTrigger('logutriga', hostileTable, [queue]));
    for (const change of hostileChanges) await client.query(change);
    const queued = await events(client, queue);
    expect(queued.map((ev) => [ev.ev_type, ev.ev_data])).toEqual([
      ['I:Order,Id', 'Id=1&sel+ect=it%27s&select=x%26y%3dz&%c3%bcn%c3%af=%c3%bc&a%3db%26c&Order=7'],
      ['U:Order,Id', 'Id=1&sel+ect=a+b&select=x%26y%3dz&%c3%bcn%c3%af=%c3%bc&a%3db%26c=3&Order=7'],
      ['U:Order,Id', 'Id=1&sel+ect=a+b&select=x%26y%3dz&%c3%bcn%c3%af=%c3%bc&a%3db%26c=3&Order=7'],
      ['D:Order,Id', 'Id=1&sel+ect=a+b&select=x%26y%3dz&%c3%bcn%c3%af=%c3%bc&a%3db%26c=3&Order=7'],
    ]);
    for (const ev of queued) expect(ev.ev_extra1).toBe(hostileExtra1);
    // the payload is plain application/x-www-form-urlencoded
    const decoded = Object.fromEntries(new URLSearchParams(queued[0]?.ev_data ?? ''));
    expect(decoded).toEqual({
      Id: '1',
      'sel ect': "it's",
      select: 'x&y=z',
      ünï: 'ü',
      'a=b&c': '',
      Order: '7',
    });
  });

  it('keeps [A-Za-z0-9._-], writes space as + and every other byte as lower-case %xx', async () => {
    const queue = await newQueue(client);
    await client.query('create table lt_ascii (id int primary key, v text)');
    await client.query(createTrigger('logutriga', 'lt_ascii', [queue]));
    await client.query(
      `insert into lt_ascii select 1, string_agg(chr(i), '' order by i) from generate_series(1, 127) i`,
    );
    await client.query(`insert into lt_ascii values (2, ''), (3, null), (4, 'é€😀')`);
    expect(await typeAndData(client, queue)).toEqual([
      [
        'I:id',
        'id=1&v=%01%02%03%04%05%06%07%08%09%0a%0b%0c%0d%0e%0f%10%11%12%13%14%15%16%17%18%19%1a%1b' +
          '%1c%1d%1e%1f+%21%22%23%24%25%26%27%28%29%2a%2b%2c-.%2f0123456789%3a%3b%3c%3d%3e%3f%40' +
          'ABCDEFGHIJKLMNOPQRSTUVWXYZ%5b%5c%5d%5e_%60abcdefghijklmnopqrstuvwxyz%7b%7c%7d%7e%7f',
      ],
      ['I:id', 'id=2&v='],
      ['I:id', 'id=3&v'],
      ['I:id', 'id=4&v=%c3%a9%e2%82%ac%f0%9f%98%80'],
    ]);
  });

  it('accepts inserts on a table without a key (empty key list)', async () => {
    const queue = await newQueue(client);
    await client.query('create table lt_nokey (a int, b text)');
    await client.query(createTrigger('logutriga', 'lt_nokey', [queue]));
    await client.query(`insert into lt_nokey values (1, 'x'), (2, null)`);
    expect(await typeAndData(client, queue)).toEqual([
      ['I:', 'a=1&b=x'],
      ['I:', 'a=2&b'],
    ]);
  });

  it('skips dropped columns and picks up added ones', async () => {
    const queue = await newQueue(client);
    await client.query('create table lt_cols (a int, id int primary key, b text, c text, d int)');
    await client.query('alter table lt_cols drop column a, drop column c');
    await client.query(createTrigger('logutriga', 'lt_cols', [queue]));
    await client.query(`insert into lt_cols values (1, 'b', 4)`);
    await client.query(`alter table lt_cols add column e text default 'e'`);
    await client.query(`update lt_cols set b = 'c'`);
    await client.query('alter table lt_cols drop column d');
    await client.query('delete from lt_cols');
    expect(await typeAndData(client, queue)).toEqual([
      ['I:id', 'id=1&b=b&d=4'],
      ['U:id', 'id=1&b=c&d=4&e=e'],
      ['D:id', 'id=1&b=c&e=e'],
    ]);
  });

  it('queues one event per row, inside the producing transaction', async () => {
    const queue = await newQueue(client);
    await client.query('create table lt_tx (id int primary key, v text)');
    await client.query(createTrigger('logutriga', 'lt_tx', [queue]));
    await client.query(`insert into lt_tx select i, 'v' || i from generate_series(1, 3) i`);
    await client.query('begin');
    await client.query(`update lt_tx set v = 'gone' where id = 2`);
    await client.query('rollback');
    await client.query('delete from lt_tx where id > 1');
    expect(await typeAndData(client, queue)).toEqual([
      ['I:id', 'id=1&v=v1'],
      ['I:id', 'id=2&v=v2'],
      ['I:id', 'id=3&v=v3'],
      ['D:id', 'id=2&v=v2'],
      ['D:id', 'id=3&v=v3'],
    ]);
  });

  it('writes values in the session DateStyle and IntervalStyle (text output)', async () => {
    const queue = await newQueue(client);
    await client.query('create table lt_styles (id int primary key, tz timestamptz, iv interval)');
    await client.query(createTrigger('logutriga', 'lt_styles', [queue]));
    await client.query(
      `set datestyle = 'SQL, DMY'; set timezone = 'UTC'; set intervalstyle = 'iso_8601'`,
    );
    try {
      await client.query(
        `insert into lt_styles values (1, '2009-09-19 11:59:48.599+00', '1 day 2 hours')`,
      );
    } finally {
      await client.query('reset datestyle; reset timezone; reset intervalstyle');
    }
    expect(await typeAndData(client, queue)).toEqual([
      ['I:id', 'id=1&tz=19%2f09%2f2009+11%3a59%3a48.599+UTC&iv=P1DT2H'],
    ]);
  });
});
