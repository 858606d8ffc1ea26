/**
 * Values and names a copy must carry unchanged, by COPY BINARY (same server, same built-in
 * types) and by COPY text (what a user-defined type or a different server gets).
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { contents, definitions, onBoth, runCopy, useCopyDatabases } from './helpers.js';

const test = useTestDatabase();
const dbs = useCopyDatabases(test);

// Stored name: schema and table split at the first dot, case and quotes kept.
const table = 'Ünï Schema.Mixed.Case "T"';
const quoted = '"Ünï Schema"."Mixed.Case ""T"""';

const ddl = `
create schema "Ünï Schema";
create table ${quoted} (
  "Key A" int,
  "kéy_b" text,
  "select" text,
  b bytea,
  j jsonb,
  arr int[],
  tarr text[],
  num numeric,
  ts timestamptz,
  d date,
  u uuid,
  iv interval,
  big text,
  primary key ("Key A", "kéy_b")
);
create index "Idx ""Odd""" on ${quoted} (upper("select"));`;

const rowsSql = `
insert into ${quoted} values
  (1, 'a', null, null, null, null, null, null, null, null, null, null, null),
  (1, 'b', 'tab	and
newline \\ backslash', '\\x00ff10'::bytea, '{"k": [1, "two", null], "é": {}}',
   '{1,null,3}', '{"with \\"quote\\"",null,"a,b",""}', 'NaN', 'infinity', '-infinity',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 year 2 mons -3 days 04:05:06.789', ''),
  (2, 'ü', 'x', ''::bytea, 'null', '{}', '{}', '-123456789012345678901234567890.000000001',
   '-infinity', 'infinity', '00000000-0000-0000-0000-000000000000', '-178000000 years', 'y'),
  (3, '', 'y', decode(repeat('00ff', 1000), 'hex'), '[]', '{{1,2},{3,4}}', '{NULL}', '0.1',
   '2026-12-07 15:00:00.123456+02', '2000-02-29', null, '0', repeat('z', 10 * 1024 * 1024));`;

describe('copyTable values and names', () => {
  it('carries every value and hostile names unchanged, by binary and by text', async () => {
    await onBoth(dbs, ddl);
    await dbs.source.query(rowsSql);
    const before = await definitions(dbs.dest, table);
    const expected = await contents(dbs.source, table);
    expect(expected.count).toBe(4);

    const binary = await runCopy(dbs, table);
    expect(binary.format).toBe('binary');
    expect(binary.rows).toBe(4);
    expect(await contents(dbs.dest, table)).toEqual(expected);
    expect(await definitions(dbs.dest, table)).toEqual(before);

    const text = await runCopy(dbs, table, { format: 'text' });
    expect(text.format).toBe('text');
    expect(await contents(dbs.dest, table)).toEqual(expected);
    expect(await definitions(dbs.dest, table)).toEqual(before);
    // The 10 MB value arrived whole.
    const big = await dbs.dest.query(`select length(big) as n from ${quoted} where "Key A" = 3`);
    expect(big.rows).toEqual([{ n: 10 * 1024 * 1024 }]);
  });

  it('copies a user-defined type as text', async () => {
    await onBoth(
      dbs,
      `create type public.mood as enum ('sad', 'ok', 'happy');
       create table public.moods (id int primary key, m public.mood, ms public.mood[]);`,
    );
    await dbs.source.query(
      `insert into public.moods values (1, 'sad', '{ok,happy}'), (2, null, null), (3, 'happy', '{}')`,
    );
    const result = await runCopy(dbs, 'public.moods');
    expect(result.format).toBe('text');
    expect(await contents(dbs.dest, 'public.moods')).toEqual(
      await contents(dbs.source, 'public.moods'),
    );
  });

  it('copies into and out of partitioned tables', async () => {
    await onBoth(
      dbs,
      `create table public.parts (id int primary key, v text) partition by range (id);
       create table public.parts_1 partition of public.parts for values from (0) to (100);
       create table public.parts_2 partition of public.parts for values from (100) to (200);
       create index parts_v on public.parts (v);`,
    );
    await dbs.source.query(
      `insert into public.parts select i, 'v' || i from generate_series(0, 199) i`,
    );
    await dbs.dest.query(`insert into public.parts values (5, 'old')`);
    const before = await definitions(dbs.dest, 'public.parts');
    const result = await runCopy(dbs, 'public.parts');
    expect(result.rows).toBe(200);
    expect(await contents(dbs.dest, 'public.parts')).toEqual(
      await contents(dbs.source, 'public.parts'),
    );
    expect(await definitions(dbs.dest, 'public.parts')).toEqual(before);
    expect(await definitions(dbs.dest, 'public.parts_1')).toEqual(
      await definitions(dbs.source, 'public.parts_1'),
    );
  });
});
