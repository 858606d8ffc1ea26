/**
 * pgq.logutriga's generated code (pgq._trigger_generate): a FOR EACH ROW trigger with only the
 * queue as argument, on a table with a primary key, gets code of its own, rewritten by the
 * event trigger pgq_trigger_code after every DDL command. It must write exactly the events the
 * general path writes, follow every change of the table at once, and hand anything unusual
 * to the general path.
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';
import { createTrigger, events, expectPgError, newQueue, typeAndData } from './trigger-helpers.js';

const db = useTestDatabase();
let client: pg.Client;

beforeAll(async () => {
  client = await db.connect();
});

/** Whether pgq.logutriga() holds generated code for this table. */
async function generatedFor(table: string): Promise<boolean> {
  const { rows } = await client.query<{ yes: boolean }>(
    `select strpos(p.prosrc, ($1::regclass::oid)::text || '::pg_catalog.oid') > 0 as yes
       from pg_proc p where p.oid = 'pgq.logutriga()'::regprocedure`,
    [table],
  );
  return rows[0]?.yes ?? false;
}

const shapeDdl = (table: string) => `
  create type ${table}_pair as (x int, y text);
  create table ${table} (
    "Id" int primary key, flag bool, code char(5), addr inet, at timestamptz, day date,
    "we ird=&col" text, nums int[], pair ${table}_pair, amount numeric, note text not null);`;

/** Rows that cover every encoding branch: plain, common and rare punctuation, non-ASCII,
 * control characters, the generated code's own separator characters, NULLs. */
const rowValues = [
  `1, true, 'ab', '10.0.0.1', '2020-01-02 03:04:05.678+00', '2020-01-02', 'plain', '{1,2}', row(1, 'a'), 1.50, 'x'`,
  `2, false, 'a b', '10.0.0.0/8', null, null, 'a b:c,d/e@f&g=h?i%j+k', '{}', null, null, ''`,
  `3, null, null, null, null, null, E'it''s (quoted) "x" #1 [y] {z} ~!*;<>|^\`$', null, row(null, null), -0.0, 'q'`,
  `4, true, 'ü', null, null, null, 'naïve ☃', '{NULL}', null, 'NaN', 'ü'`,
  `5, true, 'x', null, null, null, E'tab\\there\\nline', null, null, null, E'\\x01sep\\x02'`,
];

describe('pgq.logutriga generated code', () => {
  it('writes the same events as the general path for every kind of value', async () => {
    const queue = await newQueue(client);
    await client.query(shapeDdl('gen_fast') + shapeDdl('gen_slow'));
    await client.query(createTrigger('logutriga', 'gen_fast', [queue]));
    // pkey= naming the primary key: the same events, always through the general path
    await client.query(createTrigger('logutriga', 'gen_slow', [queue, 'pkey=Id']));
    expect(await generatedFor('gen_fast')).toBe(true);
    expect(await generatedFor('gen_slow')).toBe(false);
    for (const table of ['gen_fast', 'gen_slow']) {
      for (const values of rowValues) {
        await client.query(`insert into ${table} values (${values})`);
      }
      await client.query(`update ${table} set note = note || ' & more', flag = not flag`);
      await client.query(`update ${table} set note = note`);
      await client.query(`delete from ${table} where "Id" in (2, 4, 5)`);
    }
    const queued = await events(client, queue);
    const fast = queued.filter((ev) => ev.ev_extra1 === 'public.gen_fast');
    const slow = queued.filter((ev) => ev.ev_extra1 === 'public.gen_slow');
    expect(fast.length).toBe(5 + 5 + 5 + 3);
    expect(fast).toEqual(slow.map((ev) => ({ ...ev, ev_extra1: 'public.gen_fast' })));
    expect(fast[0]).toEqual({
      ev_type: 'I:Id',
      ev_data:
        'Id=1&flag=t&code=ab+++&addr=10.0.0.1&at=2020-01-02+03%3a04%3a05.678%2b00&day=2020-01-02' +
        '&we+ird%3d%26col=plain&nums=%7b1%2c2%7d&pair=%281%2ca%29&amount=1.50&note=x',
      ev_extra1: 'public.gen_fast',
      ev_extra2: null,
      ev_extra3: null,
      ev_extra4: null,
    });
  });

  it('follows added, dropped and renamed columns, a new key and a renamed table at once', async () => {
    const queue = await newQueue(client);
    await client.query('create table gen_ddl (id int primary key, a text, b text)');
    await client.query(createTrigger('logutriga', 'gen_ddl', [queue]));
    await client.query(`insert into gen_ddl values (1, 'a1', 'b1')`);
    await client.query('alter table gen_ddl add column c int default 7');
    await client.query(`insert into gen_ddl values (2, 'a2', 'b2')`);
    await client.query('alter table gen_ddl drop column a');
    await client.query(`insert into gen_ddl values (3, 'b3')`);
    await client.query('alter table gen_ddl rename column b to "B b"');
    await client.query(`update gen_ddl set c = 8 where id = 3`);
    // in one transaction with the change, as Londiste's EXECUTE runs DDL
    await client.query('begin');
    await client.query('alter table gen_ddl drop constraint gen_ddl_pkey');
    await client.query('alter table gen_ddl add primary key (c, id)');
    await client.query(`insert into gen_ddl values (4, 'b4', 9)`);
    await client.query('commit');
    await client.query('alter table gen_ddl rename to gen_ddl2');
    await client.query('delete from gen_ddl2 where id = 4');
    expect(await generatedFor('gen_ddl2')).toBe(true);
    expect(await events(client, queue)).toEqual(
      [
        ['I:id', 'id=1&a=a1&b=b1', 'public.gen_ddl'],
        ['I:id', 'id=2&a=a2&b=b2&c=7', 'public.gen_ddl'],
        ['I:id', 'id=3&b=b3&c=7', 'public.gen_ddl'],
        ['U:id', 'id=3&B+b=b3&c=8', 'public.gen_ddl'],
        ['I:c,id', 'id=4&B+b=b4&c=9', 'public.gen_ddl'],
        ['D:c,id', 'id=4&B+b=b4&c=9', 'public.gen_ddl2'],
      ].map(([ev_type, ev_data, ev_extra1]) => ({
        ev_type,
        ev_data,
        ev_extra1,
        ev_extra2: null,
        ev_extra3: null,
        ev_extra4: null,
      })),
    );
    // a dropped table's code never runs again; the next rewrite leaves it out
    await client.query('drop table gen_ddl2');
    await client.query('create table gen_ddl3 (id int primary key)');
    await client.query(createTrigger('logutriga', 'gen_ddl3', [queue]));
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_proc where oid = 'pgq.logutriga()'::regprocedure
          and prosrc like '%''gen_ddl2''%'`,
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('leaves key updates, replication role local and BEFORE triggers as the general path has them', async () => {
    const queue = await newQueue(client);
    await client.query('create table gen_rules (id int primary key, v text not null)');
    await client.query(createTrigger('logutriga', 'gen_rules', [queue], { timing: 'BEFORE' }));
    expect(await generatedFor('gen_rules')).toBe(true);
    await client.query(`insert into gen_rules values (1, 'a')`);
    await expectPgError(
      client.query('update gen_rules set id = 2'),
      'primary key update not allowed',
    );
    await client.query('set session_replication_role = local');
    await client.query(`insert into gen_rules values (2, 'local')`);
    await client.query('reset session_replication_role');
    // a NULL in a NOT NULL column reaches a BEFORE trigger; the constraint refuses it after
    const error = await client.query(`insert into gen_rules values (3, null)`).catch((e) => e);
    expect((error as { code: string }).code).toBe('23502');
    expect(await typeAndData(client, queue)).toEqual([['I:id', 'id=1&v=a']]);
    expect((await client.query('select count(*)::int as n from gen_rules')).rows[0].n).toBe(2);
  });

  it('a mixed-case, quoted table in another schema, and a partition', async () => {
    const queue = await newQueue(client);
    const table = `${quoteIdent('Gen "S')}.${quoteIdent('T.ab le')}`;
    await client.query(`create schema ${quoteIdent('Gen "S')}`);
    await client.query(`create table ${table} ("K" int primary key, v text)`);
    await client.query(createTrigger('logutriga', table, [queue]));
    await client.query(
      'create table gen_parted (id int primary key, v text) partition by range (id)',
    );
    await client.query(
      'create table gen_part1 partition of gen_parted for values from (0) to (100)',
    );
    await client.query(createTrigger('logutriga', 'gen_parted', [queue]));
    expect(await generatedFor(table)).toBe(true);
    expect(await generatedFor('gen_part1')).toBe(true);
    await client.query(`insert into ${table} values (1, 'x')`);
    await client.query(`insert into gen_parted values (5, 'y')`);
    expect(
      (await events(client, queue)).map((ev) => [ev.ev_type, ev.ev_data, ev.ev_extra1]),
    ).toEqual([
      ['I:K', 'K=1&v=x', 'Gen "S.T.ab le'],
      ['I:id', 'id=5&v=y', 'public.gen_part1'],
    ]);
  });

  it('without the event trigger there is no generated code, and the general path does the work', async () => {
    const queue = await newQueue(client);
    await client.query('create table gen_off (id int primary key, v text)');
    await client.query(createTrigger('logutriga', 'gen_off', [queue]));
    expect(await generatedFor('gen_off')).toBe(true);
    await client.query('begin');
    await client.query('alter event trigger pgq_trigger_code disable');
    await client.query('select pgq._trigger_generate()');
    expect(await generatedFor('gen_off')).toBe(false);
    await client.query(`insert into gen_off values (1, 'a b')`);
    expect(await typeAndData(client, queue)).toEqual([['I:id', 'id=1&v=a+b']]);
    await client.query('rollback');
    expect(await generatedFor('gen_off')).toBe(true);
    await client.query(`insert into gen_off values (2, 'c')`);
    expect(await typeAndData(client, queue)).toEqual([['I:id', 'id=2&v=c']]);
  });
});
