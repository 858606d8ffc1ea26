/**
 * Payload encoding of every column type the pgq triggers must handle (spec §1.5): text output
 * for logutriga (urlencoded) and sqltriga (quote_literal), typed JSON for jsontriga, with
 * extreme values, NULLs and quotes. Expected strings are what PgQ 3.5's C triggers produce
 * under the session settings upstream's tests use (extra_float_digits = 0, UTC, ISO dates).
 */

import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createTrigger, events, newQueue } from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
  await client.query(`
    set extra_float_digits = 0;
    set timezone = 'UTC';
    set datestyle = 'ISO, MDY';
    set intervalstyle = 'postgres';
    create type mood as enum ('sad', 'ok');
    create type pair as (x int, y text);
    create domain posint as int check (value > 0);
  `);
});

/**
 * One value per case: `log` is the `v...` part of logutriga's ev_data, `sql` the value in
 * sqltriga's INSERT, `json` the value in jsontriga's object.
 */
const cases = [
  {
    label: 'text with quote, double quote, backslash, newline, tab and space',
    type: 'text',
    literal: "E'q''\\\"\\\\\\n\\t x'",
    log: 'v=q%27%22%5c%0a%09+x',
    sql: "E'q''\"\\\\\n\t x'",
    json: '"q\'\\"\\\\\\n\\t x"',
  },
  { label: 'empty text', type: 'text', literal: "''", log: 'v=', sql: "''", json: '""' },
  { label: 'NULL', type: 'text', literal: 'NULL', log: 'v', sql: 'null', json: 'null' },
  {
    label: 'non-ASCII text',
    type: 'text',
    literal: "'ü€😀'",
    log: 'v=%c3%bc%e2%82%ac%f0%9f%98%80',
    sql: "'ü€😀'",
    json: '"ü€😀"',
  },
  {
    label: 'control characters',
    type: 'text',
    literal: "E'\\x01\\x1f\\x7f'",
    log: 'v=%01%1f%7f',
    sql: "'\u0001\u001f\u007f'",
    json: '"\\u0001\\u001f\u007f"',
  },
  {
    label: 'printable ASCII',
    type: 'text',
    literal: "(select string_agg(chr(i), '' order by i) from generate_series(32, 126) i)",
    log: 'v=+%21%22%23%24%25%26%27%28%29%2a%2b%2c-.%2f0123456789%3a%3b%3c%3d%3e%3f%40ABCDEFGHIJKLMNOPQRSTUVWXYZ%5b%5c%5d%5e_%60abcdefghijklmnopqrstuvwxyz%7b%7c%7d%7e',
    sql: "E' !\"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~'",
    json: '" !\\"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"',
  },
  {
    label: 'varchar',
    type: 'varchar(5)',
    literal: "'xyz'",
    log: 'v=xyz',
    sql: "'xyz'",
    json: '"xyz"',
  },
  {
    label: 'char(3), blank-padded',
    type: 'char(3)',
    literal: "'ab'",
    log: 'v=ab+',
    sql: "'ab '",
    json: '"ab "',
  },
  {
    label: 'bytea',
    type: 'bytea',
    literal: "'\\x00ff27'",
    log: 'v=%5cx00ff27',
    sql: "E'\\\\x00ff27'",
    json: '"\\\\x00ff27"',
  },
  {
    label: 'empty bytea',
    type: 'bytea',
    literal: "'\\x'",
    log: 'v=%5cx',
    sql: "E'\\\\x'",
    json: '"\\\\x"',
  },
  { label: 'bool true', type: 'bool', literal: 'true', log: 'v=t', sql: "'t'", json: 'true' },
  { label: 'bool false', type: 'bool', literal: 'false', log: 'v=f', sql: "'f'", json: 'false' },
  {
    label: 'timestamptz',
    type: 'timestamptz',
    literal: "'2009-09-19 11:59:48.599+00'",
    log: 'v=2009-09-19+11%3a59%3a48.599%2b00',
    sql: "'2009-09-19 11:59:48.599+00'",
    json: '"2009-09-19T11:59:48.599+00:00"',
  },
  {
    label: 'timestamptz infinity',
    type: 'timestamptz',
    literal: "'infinity'",
    log: 'v=infinity',
    sql: "'infinity'",
    json: '"infinity"',
  },
  {
    label: 'timestamptz -infinity',
    type: 'timestamptz',
    literal: "'-infinity'",
    log: 'v=-infinity',
    sql: "'-infinity'",
    json: '"-infinity"',
  },
  {
    label: 'timestamptz BC',
    type: 'timestamptz',
    literal: "'0044-03-15 12:00:00+00 BC'",
    log: 'v=0044-03-15+12%3a00%3a00%2b00+BC',
    sql: "'0044-03-15 12:00:00+00 BC'",
    json: '"0044-03-15T12:00:00+00:00 BC"',
  },
  {
    label: 'timestamp with microseconds',
    type: 'timestamp',
    literal: "'2000-01-01 00:00:00.000001'",
    log: 'v=2000-01-01+00%3a00%3a00.000001',
    sql: "'2000-01-01 00:00:00.000001'",
    json: '"2000-01-01T00:00:00.000001"',
  },
  {
    label: 'timestamp maximum',
    type: 'timestamp',
    literal: "'294276-12-31 23:59:59.999999'",
    log: 'v=294276-12-31+23%3a59%3a59.999999',
    sql: "'294276-12-31 23:59:59.999999'",
    json: '"294276-12-31T23:59:59.999999"',
  },
  {
    label: 'timestamp(0)',
    type: 'timestamp(0)',
    literal: "'2009-09-19 11:59:48.599'",
    log: 'v=2009-09-19+11%3a59%3a49',
    sql: "'2009-09-19 11:59:49'",
    json: '"2009-09-19T11:59:49"',
  },
  {
    label: 'date',
    type: 'date',
    literal: "'2009-09-19'",
    log: 'v=2009-09-19',
    sql: "'2009-09-19'",
    json: '"2009-09-19"',
  },
  {
    label: 'date minimum',
    type: 'date',
    literal: "'4713-01-01 BC'",
    log: 'v=4713-01-01+BC',
    sql: "'4713-01-01 BC'",
    json: '"4713-01-01 BC"',
  },
  {
    label: 'date maximum',
    type: 'date',
    literal: "'5874897-12-31'",
    log: 'v=5874897-12-31',
    sql: "'5874897-12-31'",
    json: '"5874897-12-31"',
  },
  {
    label: 'time',
    type: 'time',
    literal: "'11:59:48.599'",
    log: 'v=11%3a59%3a48.599',
    sql: "'11:59:48.599'",
    json: '"11:59:48.599"',
  },
  {
    label: 'time 24:00',
    type: 'time',
    literal: "'24:00:00'",
    log: 'v=24%3a00%3a00',
    sql: "'24:00:00'",
    json: '"24:00:00"',
  },
  {
    label: 'timetz',
    type: 'timetz',
    literal: "'11:59:48+02'",
    log: 'v=11%3a59%3a48%2b02',
    sql: "'11:59:48+02'",
    json: '"11:59:48+02"',
  },
  {
    label: 'interval',
    type: 'interval',
    literal: "'1 day 2 hours'",
    log: 'v=1+day+02%3a00%3a00',
    sql: "'1 day 02:00:00'",
    json: '"1 day 02:00:00"',
  },
  {
    label: 'interval extreme',
    type: 'interval',
    literal: "'-178000000 years'",
    log: 'v=-178000000+years',
    sql: "'-178000000 years'",
    json: '"-178000000 years"',
  },
  {
    label: 'int2 minimum',
    type: 'int2',
    literal: '-32768',
    log: 'v=-32768',
    sql: "'-32768'",
    json: '-32768',
  },
  {
    label: 'int2 maximum',
    type: 'int2',
    literal: '32767',
    log: 'v=32767',
    sql: "'32767'",
    json: '32767',
  },
  {
    label: 'int4 minimum',
    type: 'int4',
    literal: '-2147483648',
    log: 'v=-2147483648',
    sql: "'-2147483648'",
    json: '-2147483648',
  },
  {
    label: 'int4 maximum',
    type: 'int4',
    literal: '2147483647',
    log: 'v=2147483647',
    sql: "'2147483647'",
    json: '2147483647',
  },
  {
    label: 'int8 minimum',
    type: 'int8',
    literal: '-9223372036854775808',
    log: 'v=-9223372036854775808',
    sql: "'-9223372036854775808'",
    json: '-9223372036854775808',
  },
  {
    label: 'int8 maximum',
    type: 'int8',
    literal: '9223372036854775807',
    log: 'v=9223372036854775807',
    sql: "'9223372036854775807'",
    json: '9223372036854775807',
  },
  {
    label: 'oid maximum',
    type: 'oid',
    literal: '4294967295',
    log: 'v=4294967295',
    sql: "'4294967295'",
    json: '"4294967295"',
  },
  { label: 'oid zero', type: 'oid', literal: '0', log: 'v=0', sql: "'0'", json: '"0"' },
  {
    label: 'xid',
    type: 'xid',
    literal: "'4294967295'",
    log: 'v=4294967295',
    sql: "'4294967295'",
    json: '"4294967295"',
  },
  {
    label: 'real',
    type: 'real',
    literal: '3.14159265',
    log: 'v=3.14159',
    sql: "'3.14159'",
    json: '"3.14159"',
  },
  { label: 'real NaN', type: 'real', literal: "'NaN'", log: 'v=NaN', sql: "'NaN'", json: '"NaN"' },
  {
    label: 'real denormal',
    type: 'real',
    literal: '1e-40',
    log: 'v=9.99995e-41',
    sql: "'9.99995e-41'",
    json: '"9.99995e-41"',
  },
  {
    label: 'real negative zero',
    type: 'real',
    literal: "'-0'",
    log: 'v=-0',
    sql: "'-0'",
    json: '"-0"',
  },
  {
    label: 'float8',
    type: 'float8',
    literal: '2.718281828459045',
    log: 'v=2.71828182845905',
    sql: "'2.71828182845905'",
    json: '"2.71828182845905"',
  },
  {
    label: 'float8 -Infinity',
    type: 'float8',
    literal: "'-Infinity'",
    log: 'v=-Infinity',
    sql: "'-Infinity'",
    json: '"-Infinity"',
  },
  {
    label: 'float8 maximum',
    type: 'float8',
    literal: '1.7976931348623157e308',
    log: 'v=1.79769313486232e%2b308',
    sql: "'1.79769313486232e+308'",
    json: '"1.79769313486232e+308"',
  },
  {
    label: 'numeric',
    type: 'numeric',
    literal: '123456789.000100',
    log: 'v=123456789.000100',
    sql: "'123456789.000100'",
    json: '"123456789.000100"',
  },
  {
    label: 'numeric NaN',
    type: 'numeric',
    literal: "'NaN'",
    log: 'v=NaN',
    sql: "'NaN'",
    json: '"NaN"',
  },
  {
    label: 'numeric small negative',
    type: 'numeric',
    literal: '-0.000000000001',
    log: 'v=-0.000000000001',
    sql: "'-0.000000000001'",
    json: '"-0.000000000001"',
  },
  {
    label: 'numeric 1e40',
    type: 'numeric',
    literal: '1e40',
    log: 'v=10000000000000000000000000000000000000000',
    sql: "'10000000000000000000000000000000000000000'",
    json: '"10000000000000000000000000000000000000000"',
  },
  {
    label: 'box',
    type: 'box',
    literal: "'(1,2),(3,4)'",
    log: 'v=%283%2c4%29%2c%281%2c2%29',
    sql: "'(3,4),(1,2)'",
    json: '"(3,4),(1,2)"',
  },
  {
    label: 'uuid',
    type: 'uuid',
    literal: "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    log: 'v=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    sql: "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    json: '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"',
  },
  {
    label: 'json',
    type: 'json',
    literal: '\'{"a": [1, "x"]}\'',
    log: 'v=%7b%22a%22%3a+%5b1%2c+%22x%22%5d%7d',
    sql: '\'{"a": [1, "x"]}\'',
    json: '"{\\"a\\": [1, \\"x\\"]}"',
  },
  {
    label: 'jsonb',
    type: 'jsonb',
    literal: '\'{"b": 2, "a": 1}\'',
    log: 'v=%7b%22a%22%3a+1%2c+%22b%22%3a+2%7d',
    sql: '\'{"a": 1, "b": 2}\'',
    json: '"{\\"a\\": 1, \\"b\\": 2}"',
  },
  {
    label: 'int array with NULL',
    type: 'int[]',
    literal: "'{1,NULL,3}'",
    log: 'v=%7b1%2cNULL%2c3%7d',
    sql: "'{1,NULL,3}'",
    json: '"{1,NULL,3}"',
  },
  {
    label: 'text array with quotes',
    type: 'text[]',
    literal: '\'{"a b",NULL,"c\\"d"}\'',
    log: 'v=%7b%22a+b%22%2cNULL%2c%22c%5c%22d%22%7d',
    sql: 'E\'{"a b",NULL,"c\\\\"d"}\'',
    json: '"{\\"a b\\",NULL,\\"c\\\\\\"d\\"}"',
  },
  {
    label: 'empty array',
    type: 'int[]',
    literal: "'{}'",
    log: 'v=%7b%7d',
    sql: "'{}'",
    json: '"{}"',
  },
  {
    label: 'inet',
    type: 'inet',
    literal: "'10.0.0.1'",
    log: 'v=10.0.0.1',
    sql: "'10.0.0.1'",
    json: '"10.0.0.1"',
  },
  { label: 'enum', type: 'mood', literal: "'ok'", log: 'v=ok', sql: "'ok'", json: '"ok"' },
  {
    label: 'composite',
    type: 'pair',
    literal: '\'(1,"a b")\'',
    log: 'v=%281%2c%22a+b%22%29',
    sql: '\'(1,"a b")\'',
    json: '"(1,\\"a b\\")"',
  },
  { label: 'domain over int4', type: 'posint', literal: '5', log: 'v=5', sql: "'5'", json: '"5"' },
];

/** Insert (1, literal) into a fresh table with all three triggers; return the three events. */
async function encode(type: string, literal: string, table: string) {
  const queue = await newQueue(client);
  await client.query(`create table ${table} (id int primary key, v ${type})`);
  for (const fn of ['jsontriga', 'logutriga', 'sqltriga'] as const) {
    await client.query(createTrigger(fn, table, [queue], { on: 'INSERT' }));
  }
  await client.query(`insert into ${table} values (1, ${literal})`);
  return events(client, queue);
}

describe('trigger payloads per column type', () => {
  cases.forEach((c, i) => {
    it(`${c.label} (${c.type})`, async () => {
      const table = `types_${i}`;
      const [json, log, sql, ...rest] = await encode(c.type, c.literal, table);
      expect(rest).toEqual([]);
      expect([log?.ev_type, log?.ev_data]).toEqual(['I:id', `id=1&${c.log}`]);
      expect([sql?.ev_type, sql?.ev_data]).toEqual(['I', `(id,v) values ('1',${c.sql})`]);
      expect([json?.ev_type, json?.ev_data]).toEqual([
        `{"op":"INSERT","table":["public","${table}"],"pkey":["id"]}`,
        `{"id":1,"v":${c.json}}`,
      ]);
      for (const ev of [json, log, sql]) expect(ev?.ev_extra1).toBe(`public.${table}`);
    });
  });

  it('float text follows extra_float_digits (shortest exact form by default)', async () => {
    await client.query('reset extra_float_digits');
    try {
      const [json, log, sql] = await encode('float8', '0.1', 'float_default');
      expect(log?.ev_data).toBe('id=1&v=0.1');
      expect(sql?.ev_data).toBe("(id,v) values ('1','0.1')");
      expect(json?.ev_data).toBe('{"id":1,"v":"0.1"}');
      const [, precise] = await encode('float8', '2.718281828459045', 'float_precise');
      expect(precise?.ev_data).toBe('id=1&v=2.718281828459045');
    } finally {
      await client.query('set extra_float_digits = 0');
    }
  });

  it('a large value with every character class decodes back to itself', async () => {
    const value = 'a b+c%d&e=f\'g"h\\i\nj€k\u0001,()'.repeat(10000);
    const queue = await newQueue(client);
    await client.query('create table big_value (id int primary key, v text)');
    for (const fn of ['jsontriga', 'logutriga', 'sqltriga'] as const) {
      await client.query(createTrigger(fn, 'big_value', [queue], { on: 'INSERT' }));
    }
    await client.query('insert into big_value values (1, $1)', [value]);
    const [json, log, sql] = await events(client, queue);
    expect(JSON.parse(json?.ev_data ?? '')).toEqual({ id: 1, v: value });
    expect(new URLSearchParams(log?.ev_data ?? '').get('v')).toBe(value);
    const literal = (sql?.ev_data ?? '').replace(/^\(id,v\) values \('1',/, '').replace(/\)$/, '');
    const { rows } = await client.query(`select ${literal} as v`);
    expect(rows[0]?.v).toBe(value);
  });
});
