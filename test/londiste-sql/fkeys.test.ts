/**
 * Foreign keys around a table's copy (§6.8): find_table_fkeys, drop_table_fkey (saved in
 * pending_fkeys), restore_table_fkey lazy (NOT VALID, then VALIDATE, then done) and not,
 * get_table_pending_fkeys, and get_valid_pending_fkeys against table states (rows written
 * into londiste.table_info directly), merge nodes included; hostile names throughout.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createNode, failure, one } from './node-setup.js';

const db = useTestDatabase();
let c: pg.Client;

const fkeys = async (sql: string, params?: unknown[]) =>
  (await c.query(sql, params)).rows.map((r) => `${r.from_table} -> ${r.to_table}: ${r.fkey_name}`);
const constraints = async () =>
  (
    await c.query(
      `select conname, convalidated from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where contype = 'f' and nspname in ('public', 'Sch ü') order by 1`,
    )
  ).rows.map((r) => `${r.conname}${r.convalidated ? '' : ' (not valid)'}`);

beforeAll(async () => {
  c = await db.connect();
  await c.query(`
    create schema "Sch ü";
    create table public.ref1 (id int primary key);
    create table "Sch ü"."Ref.2" (id int primary key,
      r1 int constraint "Fk Odd" references public.ref1 on delete cascade);
    create table public.child (id int primary key,
      r1 int references public.ref1 deferrable initially deferred,
      r2 int constraint child_r2 references "Sch ü"."Ref.2");
    create table public.selfref (id int primary key, parent int references public.selfref);
    insert into public.ref1 values (1);
    insert into "Sch ü"."Ref.2" values (10, 1);
    insert into public.child values (100, 1, 10);
  `);
});

describe('find_table_fkeys', () => {
  it('lists keys from and to a table with the statement that re-creates each', async () => {
    const { rows } = await c.query(`select * from londiste.find_table_fkeys('ref1')`);
    expect(rows).toEqual([
      {
        from_table: 'Sch ü.Ref.2',
        to_table: 'public.ref1',
        fkey_name: 'Fk Odd',
        fkey_def:
          'alter table only "Sch ü"."Ref.2" add constraint "Fk Odd" FOREIGN KEY (r1) REFERENCES ref1(id) ON DELETE CASCADE',
      },
      {
        from_table: 'public.child',
        to_table: 'public.ref1',
        fkey_name: 'child_r1_fkey',
        fkey_def:
          'alter table only public.child add constraint child_r1_fkey FOREIGN KEY (r1) REFERENCES ref1(id) DEFERRABLE INITIALLY DEFERRED',
      },
    ]);
    expect(await fkeys(`select * from londiste.find_table_fkeys('public.child')`)).toEqual([
      'public.child -> Sch ü.Ref.2: child_r2',
      'public.child -> public.ref1: child_r1_fkey',
    ]);
    expect(await fkeys(`select * from londiste.find_table_fkeys('Sch ü.Ref.2')`)).toEqual([
      'Sch ü.Ref.2 -> public.ref1: Fk Odd',
      'public.child -> Sch ü.Ref.2: child_r2',
    ]);
    expect(await fkeys(`select * from londiste.find_table_fkeys('selfref')`)).toEqual([
      'public.selfref -> public.selfref: selfref_parent_fkey',
    ]);
    for (const missing of ['nosuch', '"Sch ü"."Ref.2"', 'CHILD', null]) {
      expect(await fkeys('select * from londiste.find_table_fkeys($1)', [missing])).toEqual([]);
    }
  });
});

describe('drop, then restore', () => {
  it('drop_table_fkey saves and drops; only by the stored name of the table the key is on', async () => {
    expect((await one(c, `select londiste.drop_table_fkey('child', 'child_r1_fkey') as r`)).r).toBe(
      0,
    );
    expect(
      (await one(c, `select londiste.drop_table_fkey('public.ref1', 'child_r1_fkey') as r`)).r,
    ).toBe(0);
    expect((await one(c, `select londiste.drop_table_fkey('public.child', 'nosuch') as r`)).r).toBe(
      0,
    );
    expect((await one(c, `select londiste.drop_table_fkey('public.nosuch', 'x') as r`)).r).toBe(0);
    expect(
      (await one(c, `select londiste.drop_table_fkey('public.child', 'child_r1_fkey') as r`)).r,
    ).toBe(1);
    expect((await one(c, `select londiste.drop_table_fkey('Sch ü.Ref.2', 'Fk Odd') as r`)).r).toBe(
      1,
    );
    expect(await constraints()).toEqual(['child_r2', 'selfref_parent_fkey']);
    expect(await fkeys('select * from londiste.pending_fkeys order by 1, 3')).toEqual([
      'Sch ü.Ref.2 -> public.ref1: Fk Odd',
      'public.child -> public.ref1: child_r1_fkey',
    ]);
    expect(await fkeys(`select * from londiste.get_table_pending_fkeys('public.ref1')`)).toEqual([
      'Sch ü.Ref.2 -> public.ref1: Fk Odd',
      'public.child -> public.ref1: child_r1_fkey',
    ]);
    expect(await fkeys(`select * from londiste.get_table_pending_fkeys('public.child')`)).toEqual([
      'public.child -> public.ref1: child_r1_fkey',
    ]);
    expect(await fkeys(`select * from londiste.get_table_pending_fkeys('child')`)).toEqual([]);
    // The same key again while one is pending: the table's key stays.
    await c.query(
      'alter table public.child add constraint child_r1_fkey foreign key (r1) references public.ref1',
    );
    expect(
      await failure(c, `select londiste.drop_table_fkey('public.child', 'child_r1_fkey')`),
    ).toEqual({
      code: '23505',
      message: 'duplicate key value violates unique constraint "pending_fkeys_pkey"',
    });
    await c.query('alter table public.child drop constraint child_r1_fkey');
  });

  it('non-lazy restore runs the definition and forgets it', async () => {
    expect(
      (await one(c, `select londiste.restore_table_fkey('public.child', 'child_r1_fkey') as r`)).r,
    ).toBe('');
    expect(await constraints()).toEqual(['child_r1_fkey', 'child_r2', 'selfref_parent_fkey']);
    const def = await one(
      c,
      `select pg_get_constraintdef(oid) as d from pg_constraint where conname = 'child_r1_fkey'`,
    );
    expect(def.d).toBe('FOREIGN KEY (r1) REFERENCES ref1(id) DEFERRABLE INITIALLY DEFERRED');
    expect(
      (await one(c, `select londiste.restore_table_fkey('public.child', 'child_r1_fkey') as r`)).r,
    ).toBe('');
  });

  it('lazy restore hands out NOT VALID, then VALIDATE until valid, then forgets', async () => {
    const step = async () =>
      (await one(c, `select londiste.restore_table_fkey('Sch ü.Ref.2', 'Fk Odd', true) as r`))
        .r as string;
    const first = await step();
    expect(first).toBe(
      'alter table only "Sch ü"."Ref.2" add constraint "Fk Odd" FOREIGN KEY (r1) REFERENCES ref1(id) ON DELETE CASCADE not valid',
    );
    expect(await step()).toBe(first); // nothing ran yet
    await c.query(first);
    expect(await constraints()).toContain('Fk Odd (not valid)');
    const second = await step();
    expect(second).toBe('alter table only "Sch ü"."Ref.2" validate constraint "Fk Odd"');
    expect(await step()).toBe(second);
    await c.query(second);
    expect(await step()).toBe('');
    expect((await one(c, 'select count(*)::int as n from londiste.pending_fkeys')).n).toBe(0);
    expect(await constraints()).toContain('Fk Odd');
  });

  it('a pending key of a table dropped meanwhile fails to restore with the server error', async () => {
    await c.query('create table public.gone (id int primary key, r int references public.ref1)');
    expect(
      (await one(c, `select londiste.drop_table_fkey('public.gone', 'gone_r_fkey') as r`)).r,
    ).toBe(1);
    await c.query('drop table public.gone');
    expect(
      await failure(c, `select londiste.restore_table_fkey('public.gone', 'gone_r_fkey')`),
    ).toEqual({
      code: '42P01',
      message: 'relation "public.gone" does not exist',
    });
    expect((await one(c, 'select count(*)::int as n from londiste.pending_fkeys')).n).toBe(1);
    await c.query('delete from londiste.pending_fkeys');
  });
});

describe('get_valid_pending_fkeys', () => {
  const valid = async (queue: string) =>
    (await c.query('select fkey_name from londiste.get_valid_pending_fkeys($1)', [queue])).rows.map(
      (r) => r.fkey_name,
    );
  const setState = (
    queue: string,
    table: string,
    state: string | null,
    snapshot: string | null = null,
  ) =>
    c.query(
      `insert into londiste.table_info (queue_name, table_name, local, merge_state, custom_snapshot)
       values ($1, $2, true, $3, $4)
       on conflict (queue_name, table_name) do update set merge_state = $3, custom_snapshot = $4, local = true`,
      [queue, table, state, snapshot],
    );

  beforeAll(async () => {
    for (const queue of ['part_a', 'part_b', 'zz']) await createNode(c, queue, 'root');
    await c.query(`insert into londiste.pending_fkeys values
      ('public.orders', 'public.Cust ü', 'orders_fk', 'def1'),
      ('public.Cust ü', 'public.Cust ü', 'self_fk', 'def2'),
      ('public.lines', 'public.orders', 'lines_fk', 'def3')`);
  });

  it('both tables local and ok, no snapshot: the key is ready', async () => {
    await setState('part_a', 'public.orders', 'ok');
    expect(await valid('part_a')).toEqual([]); // Cust ü not here yet
    await setState('part_a', 'public.Cust ü', 'in-copy');
    expect(await valid('part_a')).toEqual([]);
    await setState('part_a', 'public.Cust ü', 'ok', '1:2:');
    expect(await valid('part_a')).toEqual([]);
    await setState('part_a', 'public.Cust ü', '?');
    expect(await valid('part_a')).toEqual([]);
    await setState('part_a', 'public.Cust ü', 'ok');
    expect(await valid('part_a')).toEqual(['self_fk', 'orders_fk']);
    expect(await valid('zz')).toEqual([]);
    expect(await valid('nosuch')).toEqual([]);
  });

  it('a table not local here does not count; its destination name does', async () => {
    await c.query(
      `update londiste.table_info set local = false where table_name = 'public.orders'`,
    );
    expect(await valid('part_a')).toEqual(['self_fk']);
    await c.query(`update londiste.table_info set local = true where table_name = 'public.orders'`);
    // lines comes through zz into public.lines_dest: the key on public.lines is not it.
    await c.query(`insert into londiste.table_info (queue_name, table_name, local, merge_state, dest_table)
                   values ('zz', 'public.lines', true, 'ok', 'public.lines_dest')`);
    expect(await valid('part_a')).toEqual(['self_fk', 'orders_fk']);
    expect(await valid('zz')).toEqual([]);
    await c.query(
      `update londiste.table_info set dest_table = null where table_name = 'public.lines'`,
    );
    // lines (zz) -> orders (part_a): the first queue by name is responsible.
    expect(await valid('part_a')).toEqual(['self_fk', 'lines_fk', 'orders_fk']);
    expect(await valid('zz')).toEqual([]);
  });

  it('merge: a table from several queues is ready when every source is, on one queue only', async () => {
    await setState('part_b', 'public.orders', 'catching-up');
    expect(await valid('part_a')).toEqual(['self_fk']);
    expect(await valid('part_b')).toEqual([]);
    await setState('part_b', 'public.orders', 'ok');
    expect(await valid('part_a')).toEqual(['self_fk', 'lines_fk', 'orders_fk']);
    expect(await valid('part_b')).toEqual([]);
  });
});
