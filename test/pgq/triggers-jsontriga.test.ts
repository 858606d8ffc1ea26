/**
 * pgq.jsontriga(): JSON events. ev_type `{"op":..,"table":[schema,table],"pkey":[...]}`,
 * ev_data a JSON object of the row (bool and int2/4/8 typed, date/timestamp/timestamptz as
 * ISO strings in the session time zone, everything else as the string of its text output).
 * The per-type matrix is in triggers-types.test.ts.
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

describe('pgq.jsontriga', () => {
  it('queues insert, update, no-op update and delete with a composite key', async () => {
    const queue = await newQueue(client);
    await client.query('create table jt_basic (a int, b text, c int, primary key (c, a))');
    await client.query(createTrigger('jsontriga', 'jt_basic', [queue]));
    await client.query(`insert into jt_basic values (1, 'x y', 2)`);
    await client.query(`update jt_basic set b = 'z'`);
    await client.query('update jt_basic set b = b');
    await client.query('update jt_basic set b = null');
    await client.query('delete from jt_basic');
    const queued = await events(client, queue);
    const type = (op: string) => `{"op":"${op}","table":["public","jt_basic"],"pkey":["c","a"]}`;
    expect(queued.map((ev) => [ev.ev_type, ev.ev_data])).toEqual([
      [type('INSERT'), '{"a":1,"b":"x y","c":2}'],
      [type('UPDATE'), '{"a":1,"b":"z","c":2}'],
      [type('UPDATE'), '{"a":1,"b":"z","c":2}'],
      [type('UPDATE'), '{"a":1,"b":null,"c":2}'],
      [type('DELETE'), '{"a":1,"b":null,"c":2}'],
    ]);
    for (const ev of queued) {
      expect(ev.ev_extra1).toBe('public.jt_basic');
      expect([ev.ev_extra2, ev.ev_extra3, ev.ev_extra4]).toEqual([null, null, null]);
    }
  });

  it('escapes hostile names as JSON strings', async () => {
    const queue = await newQueue(client);
    await client.query(hostileTableDdl);
    await client.query(createTrigger('jsontriga', hostileTable, [queue]));
    for (const change of hostileChanges) await client.query(change);
    const queued = await events(client, queue);
    const type = (op: string) =>
      `{"op":"${op}","table":["Sch \\"ema","Weird \\"Tab\\" .x"],"pkey":["Order","Id"]}`;
    expect(queued.map((ev) => [ev.ev_type, ev.ev_data])).toEqual([
      [
        type('INSERT'),
        `{"Id":1,"sel ect":"it's","select":"x&y=z","ünï":"ü","a=b&c":null,"Order":7}`,
      ],
      [type('UPDATE'), `{"Id":1,"sel ect":"a b","select":"x&y=z","ünï":"ü","a=b&c":3,"Order":7}`],
      [type('UPDATE'), `{"Id":1,"sel ect":"a b","select":"x&y=z","ünï":"ü","a=b&c":3,"Order":7}`],
      [type('DELETE'), `{"Id":1,"sel ect":"a b","select":"x&y=z","ünï":"ü","a=b&c":3,"Order":7}`],
    ]);
    for (const ev of queued) expect(ev.ev_extra1).toBe(hostileExtra1);
    expect(JSON.parse(queued[0]?.ev_type ?? '')).toEqual({
      op: 'INSERT',
      table: ['Sch "ema', 'Weird "Tab" .x'],
      pkey: ['Order', 'Id'],
    });
  });

  it('writes an empty key list for a table without a key', async () => {
    const queue = await newQueue(client);
    await client.query('create table jt_nokey (a int, b bool)');
    await client.query(createTrigger('jsontriga', 'jt_nokey', [queue]));
    await client.query('insert into jt_nokey values (1, true), (null, false)');
    const type = '{"op":"INSERT","table":["public","jt_nokey"],"pkey":[]}';
    expect(await typeAndData(client, queue)).toEqual([
      [type, '{"a":1,"b":true}'],
      [type, '{"a":null,"b":false}'],
    ]);
  });

  it('writes timestamps in the session time zone, whatever the DateStyle', async () => {
    const queue = await newQueue(client);
    await client.query(`create domain jt_tsdomain as timestamptz;
      create table jt_time (id int primary key, tz timestamptz, ts timestamp, d date,
                            dom jt_tsdomain, tza timestamptz[])`);
    await client.query(createTrigger('jsontriga', 'jt_time', [queue]));
    const row = `'2009-09-19 11:59:48.599+00', '2009-09-19 11:59:48', '2009-09-19'`;
    try {
      await client.query(`set datestyle = 'SQL, DMY'; set timezone = 'Asia/Kolkata'`);
      await client.query(`insert into jt_time values (1, ${row}, '2001-02-03 04:05:06+00', null)`);
      await client.query(`set timezone = 'America/St_Johns'`);
      await client.query(`insert into jt_time values (2, '1900-01-01 12:00:00+00', null, null)`);
      await client.query(`set datestyle = 'ISO, MDY'; set timezone = 'UTC'`);
      await client.query(
        `insert into jt_time values (3, 'infinity', '-infinity', 'infinity', null,
                                     '{"2001-01-01 00:00:00+00"}')`,
      );
    } finally {
      await client.query('reset datestyle; reset timezone');
    }
    expect((await events(client, queue)).map((ev) => ev.ev_data)).toEqual([
      // a domain over timestamptz is written as the text output, like any other type
      '{"id":1,"tz":"2009-09-19T17:29:48.599+05:30","ts":"2009-09-19T11:59:48",' +
        '"d":"2009-09-19","dom":"03/02/2001 09:35:06 IST","tza":null}',
      // local mean time offsets keep their seconds
      '{"id":2,"tz":"1900-01-01T08:29:08-03:30:52","ts":null,"d":null,"dom":null,"tza":null}',
      '{"id":3,"tz":"infinity","ts":"-infinity","d":"infinity","dom":null,' +
        '"tza":"{\\"2001-01-01 00:00:00+00\\"}"}',
    ]);
  });

  it('parses as JSON with the row values', async () => {
    const queue = await newQueue(client);
    await client.query(`create table jt_parse (id int8 primary key, flag bool, small int2,
      n numeric, txt text, js json, arr int[])`);
    await client.query(createTrigger('jsontriga', 'jt_parse', [queue]));
    await client.query(
      `insert into jt_parse values (9007199254740993, false, -1, 0.5, E'\\u2028\\t"', '[1, 2]', '{1}')`,
    );
    const [ev] = await events(client, queue);
    expect(ev?.ev_data).toBe(
      '{"id":9007199254740993,"flag":false,"small":-1,"n":"0.5","txt":"\u2028\\t\\"",' +
        '"js":"[1, 2]","arr":"{1}"}',
    );
    expect(JSON.parse(ev?.ev_data ?? '')).toMatchObject({ flag: false, small: -1, n: '0.5' });
  });
});
