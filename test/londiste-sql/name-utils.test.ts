/**
 * The name helpers every londiste function uses: stored names are `schema.name` split at the
 * first dot, case kept, never SQL-quoted; relations missing give NULL (callers make their own
 * return codes); find_column_types marks primary key columns. Also version() and
 * upgrade_schema(), and which roles may call what.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { failure, one } from './node-setup.js';

const db = useTestDatabase();
let c: pg.Client;

beforeAll(async () => {
  c = await db.connect();
  await c.query(`
    create schema "Sch";
    create table public.t1 (id int primary key, v text, "Odd Col" int);
    create table "Sch"."Tbl.x" (a int, b int, c text, primary key (b, a));
    create table public.late_pk (a int, b int, c int, primary key (c, a));
    create sequence public.s1;
    create sequence "Sch"."Seq";
    create view public.v1 as select 1 as a;
    create table public."Üni" (id int);
    create table public.parted (id int) partition by range (id);
  `);
});

describe('split_fqname, make_fqname, quote_fqname', () => {
  it('split at the first dot, public when there is none, no unquoting', async () => {
    const { rows } = await c.query(
      `select n, (londiste.split_fqname(n)).* from unnest(array['a.b.c', 'abc', '"A"."b"', '', '.x', 'x.']) n`,
    );
    expect(rows.map((r) => [r.n, r.schema_part, r.name_part])).toEqual([
      ['a.b.c', 'a', 'b.c'],
      ['abc', 'public', 'abc'],
      ['"A"."b"', '"A"', '"b"'],
      ['', 'public', ''],
      ['.x', '', 'x'],
      ['x.', 'x', ''],
    ]);
    expect(await one(c, 'select * from londiste.split_fqname(null)')).toEqual({
      schema_part: null,
      name_part: null,
    });
  });

  it('make_fqname adds public.; quote_fqname quotes each part as SQL needs', async () => {
    const row = await one(
      c,
      `select londiste.make_fqname('abc') as a, londiste.make_fqname('a.b') as b, londiste.make_fqname('A') as c,
              londiste.make_fqname(null) as d,
              londiste.quote_fqname('abc') as e, londiste.quote_fqname('Sch.Tbl.x') as f,
              londiste.quote_fqname('a b.c') as g, londiste.quote_fqname('"A".b') as h,
              londiste.quote_fqname('select') as i, londiste.quote_fqname(null) as j`,
    );
    expect(row).toEqual({
      a: 'public.abc',
      b: 'a.b',
      c: 'public.A',
      d: null,
      e: 'public.abc',
      f: '"Sch"."Tbl.x"',
      g: '"a b".c',
      h: '"""A""".b',
      i: 'public."select"',
      j: null,
    });
  });
});

describe('find_rel_oid, find_table_oid, find_seq_oid', () => {
  it('find relations by stored name and kind; NULL when there is none', async () => {
    const row = await one(
      c,
      `select londiste.find_table_oid('t1')::regclass::text as a,
              londiste.find_table_oid('Sch.Tbl.x')::regclass::text as b,
              londiste.find_table_oid('Üni')::regclass::text as c,
              londiste.find_seq_oid('s1')::regclass::text as d,
              londiste.find_seq_oid('Sch.Seq')::regclass::text as e,
              londiste.find_rel_oid('v1', 'v')::regclass::text as f,
              londiste.find_table_oid('parted')::regclass::text as g,
              londiste.find_rel_oid('parted', 'p')::regclass::text as h`,
    );
    expect(row).toEqual({
      a: 't1',
      b: '"Sch"."Tbl.x"',
      c: '"Üni"',
      d: 's1',
      e: '"Sch"."Seq"',
      f: 'v1',
      g: 'parted',
      h: 'parted',
    });
    const missing = await one(
      c,
      `select londiste.find_table_oid('T1') as upper_case, londiste.find_table_oid('"Sch"."Tbl.x"') as quoted,
              londiste.find_table_oid('s1') as seq_as_table, londiste.find_seq_oid('t1') as table_as_seq,
              londiste.find_rel_oid('v1', 'r') as view_as_table, londiste.find_table_oid('nosuch.t') as no_schema,
              londiste.find_table_oid(null) as null_name, londiste.find_rel_oid('t1', null) as null_kind`,
    );
    expect(Object.values(missing).every((v) => v === null)).toBe(true);
  });

  it('a dropped table is gone; another table of that name is found anew', async () => {
    await c.query('create table public.flux (a int)');
    const before = (await one(c, `select londiste.find_table_oid('flux') as o`)).o;
    await c.query('drop table public.flux');
    expect((await one(c, `select londiste.find_table_oid('flux') as o`)).o).toBeNull();
    await c.query('create table public.flux (a int)');
    const after = (await one(c, `select londiste.find_table_oid('flux') as o`)).o;
    expect(after).not.toBeNull();
    expect(after).not.toBe(before);
  });
});

describe('find_column_types', () => {
  it('k for primary key columns, v for others, in column order; empty for no table', async () => {
    const row = await one(
      c,
      `select londiste.find_column_types('t1') as a, londiste.find_column_types('Sch.Tbl.x') as b,
              londiste.find_column_types('Üni') as c, londiste.find_column_types('late_pk') as d,
              londiste.find_column_types('nosuch') as e, londiste.find_column_types(null) as f`,
    );
    expect(row).toEqual({ a: 'kvv', b: 'kkv', c: 'v', d: 'kvk', e: '', f: null });
    await c.query('alter table public.t1 drop column v');
    await c.query('alter table public.t1 add column w int');
    expect((await one(c, `select londiste.find_column_types('t1') as a`)).a).toBe('kvv');
  });
});

describe('version, upgrade_schema and who may call what', () => {
  it('version 3.8; a second upgrade changes nothing', async () => {
    expect(await one(c, 'select londiste.version() as v, londiste.upgrade_schema() as u')).toEqual({
      v: '3.8',
      u: 0,
    });
  });

  it('PUBLIC may use the name helpers, not the functions that write', async () => {
    const nobody = `nb_${db.name}`.slice(0, 60);
    await c.query(`create role "${nobody}" login`);
    try {
      const client = await db.connect({ user: nobody });
      expect(
        await one(
          client,
          `select londiste.make_fqname('x') as a, londiste.find_column_types('t1') as b`,
        ),
      ).toEqual({ a: 'public.x', b: 'kvv' });
      expect(await failure(client, `select londiste.periodic_maintenance()`)).toEqual({
        code: '42501',
        message: 'permission denied for function periodic_maintenance',
      });
      await client.end();
    } finally {
      await c.query(`drop role "${nobody}"`);
    }
  });
});
