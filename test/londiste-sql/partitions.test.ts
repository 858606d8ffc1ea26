/**
 * Time partitions for the dispatch handler (§6.3): create_partition (child LIKE parent
 * INCLUDING ALL + INHERITS, owner, CHECK range for the period, grants, triggers with their
 * enable state, rules; 1 created, 0 existing; serialised by a lock on londiste.table_info)
 * and the obsolete-partition functions (names `<parent>_YYYY[_MM[_DD[_HH24]]]`).
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';
import { failure, one } from './node-setup.js';

const db = useTestDatabase();
let c: pg.Client;
const owner = `Po ü ${db.name}`.slice(0, 60);
const reader = `Pr "${db.name}`.slice(0, 60);

const create = async (...args: unknown[]) =>
  (await one(c, 'select londiste.create_partition($1, $2, $3, $4, $5, $6) as r', args)).r as number;
const checks = async (table: string) =>
  (
    await c.query(
      `select conname, pg_get_constraintdef(oid) as def from pg_constraint
        where conrelid = $1::regclass and contype = 'c' order by 1`,
      [table],
    )
  ).rows.map((r) => `${r.conname}: ${r.def}`);

beforeAll(async () => {
  c = await db.connect();
  await c.query(`set timezone = 'UTC'`);
  await c.query(`create role ${quoteIdent(owner)}; create role ${quoteIdent(reader)}`);
  await c.query(`
    create schema "Ev ü";
    create table "Ev ü"."Log" (id int primary key, ts timestamptz not null default now(),
      v text check (v <> 'x'), u int unique);
    create index on "Ev ü"."Log" (v);
    comment on column "Ev ü"."Log".v is 'the value';
    create function "Ev ü".trg() returns trigger language plpgsql as $$ begin return new; end $$;
    create trigger t_on before insert on "Ev ü"."Log" for each row execute procedure "Ev ü".trg();
    create trigger "T off" after update on "Ev ü"."Log" for each row execute procedure "Ev ü".trg();
    alter table "Ev ü"."Log" disable trigger "T off";
    create trigger t_rep after delete on "Ev ü"."Log" for each row
      when (old.id > 0) execute procedure "Ev ü".trg();
    alter table "Ev ü"."Log" enable replica trigger t_rep;
    create trigger t_always after insert on "Ev ü"."Log" for each statement execute procedure "Ev ü".trg();
    alter table "Ev ü"."Log" enable always trigger t_always;
    create rule "No del" as on delete to "Ev ü"."Log" where old.id < 0 do instead nothing;
  `);
  await c.query(`grant select on "Ev ü"."Log" to ${quoteIdent(reader)}`);
  await c.query(`grant insert on "Ev ü"."Log" to ${quoteIdent(reader)} with grant option`);
  await c.query(`grant update on "Ev ü"."Log" to public`);
  await c.query(`alter table "Ev ü"."Log" owner to ${quoteIdent(owner)}`);
});

describe('create_partition', () => {
  it('creates the child with structure, owner, check range, grants, triggers and rules', async () => {
    expect(
      await create('Ev ü.Log', 'Ev ü.Log_2024_05_06', 'id', 'ts', '2024-05-06 13:45:00+00', 'day'),
    ).toBe(1);
    const t = '"Ev ü"."Log_2024_05_06"';
    const rel = await one(
      c,
      `select pg_get_userbyid(relowner) as owner,               (select array_agg(inhparent::regclass::text) from pg_inherits where inhrelid = c.oid) as parents,
              (select count(*)::int from pg_index where indrelid = c.oid) as indexes,
              col_description(c.oid, 3) as comment
         from pg_class c where oid = $1::regclass`,
      [t],
    );
    expect(rel).toMatchObject({
      owner,
      parents: ['"Ev ü"."Log"'],
      indexes: 3,
      comment: 'the value',
    });
    // The owner's privileges (all of this server's: MAINTAIN since 17) with grant option.
    const acl = (table: string) =>
      c
        .query(
          `select coalesce(pg_get_userbyid(nullif(a.grantee, 0)), 'PUBLIC') as who,
                  pg_get_userbyid(a.grantor) as grantor,
                  string_agg(a.privilege_type || case when a.is_grantable then '*' else '' end, ','
                             order by a.privilege_type) as privileges
             from pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
            where c.oid = $1::regclass group by 1, 2 order by 1`,
          [table],
        )
        .then((r) => r.rows);
    const ownerAll = (
      await c.query(
        `select string_agg(privilege_type || '*', ',' order by privilege_type) as p
         from aclexplode(acldefault('r', 0::oid))`,
      )
    ).rows[0].p;
    expect(await acl(t)).toEqual(
      [
        { who: owner, grantor: owner, privileges: ownerAll },
        { who: reader, grantor: owner, privileges: 'INSERT*,SELECT' },
        { who: 'PUBLIC', grantor: owner, privileges: 'UPDATE' },
      ].sort((x, y) => (x.who < y.who ? -1 : 1)),
    );
    expect(await checks(t)).toEqual([
      `Log_2024_05_06_ts_check: CHECK (((ts >= '2024-05-06 00:00:00+00'::timestamp with time zone) AND (ts < '2024-05-07 00:00:00+00'::timestamp with time zone)))`,
      `Log_v_check: CHECK ((v <> 'x'::text))`,
    ]);
    const { rows: triggers } = await c.query(
      `select tgname, tgenabled, pg_get_triggerdef(oid) as def from pg_trigger
        where tgrelid = $1::regclass order by 1`,
      [t],
    );
    expect(triggers.map((r) => [r.tgname, r.tgenabled])).toEqual([
      ['T off', 'D'],
      ['t_always', 'A'],
      ['t_on', 'O'],
      ['t_rep', 'R'],
    ]);
    expect(triggers[3].def).toBe(
      `CREATE TRIGGER t_rep AFTER DELETE ON "Ev ü"."Log_2024_05_06" FOR EACH ROW WHEN ((old.id > 0)) EXECUTE FUNCTION "Ev ü".trg()`,
    );
    const rule = await one(
      c,
      `select rulename, pg_get_ruledef(oid) as def from pg_rewrite where ev_class = $1::regclass`,
      [t],
    );
    expect(rule.rulename).toBe('No del');
    expect(rule.def.replace(/\s+/g, ' ')).toBe(
      'CREATE RULE "No del" AS ON DELETE TO "Ev ü"."Log_2024_05_06" WHERE (old.id < 0) DO INSTEAD NOTHING;',
    );
    // Rows go where the check lets them.
    await c.query(
      `insert into "Ev ü"."Log_2024_05_06" (id, ts) values (1, '2024-05-06 23:59:59+00')`,
    );
    expect(
      await failure(
        c,
        `insert into "Ev ü"."Log_2024_05_06" (id, ts) values (2, '2024-05-07 00:00:00+00')`,
      ),
    ).toMatchObject({ code: '23514' });
  });

  it('an existing partition gives 0 and is left alone', async () => {
    expect(
      await create(
        'Ev ü.Log',
        'Ev ü.Log_2024_05_06',
        'id',
        'ts',
        '2024-06-01 00:00:00+00',
        'month',
      ),
    ).toBe(0);
    expect((await checks('"Ev ü"."Log_2024_05_06"'))[0]).toContain("'2024-05-06 00:00:00+00'");
  });

  it('periods, columns without time zone or dates, another schema, no partition field', async () => {
    await c.query(`create table public."Plain" ("Ts" timestamp, d date)`);
    expect(
      await create('Plain', 'Ev ü.Plain_2024', null, 'Ts', '2024-05-06 13:45:00+00', 'year'),
    ).toBe(1);
    expect(await checks('"Ev ü"."Plain_2024"')).toEqual([
      `Plain_2024_Ts_check: CHECK ((("Ts" >= '2024-01-01 00:00:00'::timestamp without time zone) AND ("Ts" < '2025-01-01 00:00:00'::timestamp without time zone)))`,
    ]);
    expect(
      await create('public.Plain', 'Plain_2024_05', null, 'd', '2024-05-06 13:45:00+00', 'month'),
    ).toBe(1);
    expect(await checks('"Plain_2024_05"')).toEqual([
      `Plain_2024_05_d_check: CHECK (((d >= '2024-05-01'::date) AND (d < '2024-06-01'::date)))`,
    ]);
    expect(await create('Plain', 'Plain_h', null, 'Ts', '2024-05-06 13:45:00+00', 'hour')).toBe(1);
    expect((await checks('"Plain_h"'))[0]).toContain(`'2024-05-06 13:00:00'`);
    expect(await create('Plain', 'Plain_w', null, 'Ts', '2024-05-08 13:45:00+00', 'week')).toBe(1);
    expect((await checks('"Plain_w"'))[0]).toContain(`'2024-05-06 00:00:00'`);
    expect(await create('Plain', 'Plain_nocheck', null, null, null, null)).toBe(1);
    expect(await checks('"Plain_nocheck"')).toEqual([]);
  });

  it('bad input: one line each, nothing created', async () => {
    const cases: [unknown[], { code: string; message: string }][] = [
      [
        [null, 'x_1', null, 'ts', '2024-01-01', 'day'],
        { code: 'P0001', message: 'need table and part' },
      ],
      [
        ['Plain', null, null, 'ts', '2024-01-01', 'day'],
        { code: 'P0001', message: 'need table and part' },
      ],
      [
        ['public.nosuch', 'nosuch_1', null, 'ts', '2024-01-01', 'day'],
        { code: '42P01', message: 'relation "public.nosuch" does not exist' },
      ],
      [
        ['Plain', 'Plain_daily', null, 'Ts', '2024-01-01', 'daily'],
        { code: '22023', message: 'unit "daily" not recognized for type timestamp with time zone' },
      ],
      [
        ['Plain', 'Plain_nocol', null, 'nocol', '2024-01-01', 'day'],
        { code: '42703', message: 'column "nocol" does not exist' },
      ],
      [
        ['Plain', 'nosch.Plain_1', null, 'Ts', '2024-01-01', 'day'],
        { code: '3F000', message: 'schema "nosch" does not exist' },
      ],
      [
        ['Plain', 'Plain_nulltime', null, 'Ts', null, 'day'],
        { code: '22004', message: 'query string argument of EXECUTE is null' },
      ],
    ];
    for (const [args, error] of cases) {
      expect(
        await failure(c, 'select londiste.create_partition($1, $2, $3, $4, $5, $6)', args),
      ).toEqual(error);
    }
    const { rows } = await c.query(
      `select relname from pg_class where relname in ('x_1', 'nosuch_1', 'Plain_daily', 'Plain_nocol', 'Plain_nulltime')`,
    );
    expect(rows).toEqual([]);
  });

  it('two sessions creating the same partition: the second waits for the first, then gets 0', async () => {
    const other = await db.connect();
    await c.query('begin');
    expect(await create('Plain', 'Plain_race', null, 'Ts', '2024-05-06', 'day')).toBe(1);
    const pid = (await one(other, 'select pg_backend_pid() as p')).p;
    const second = one(
      other,
      `select londiste.create_partition('Plain', 'Plain_race', null, 'Ts', '2024-05-06', 'day') as r`,
    );
    // Wait until the second session is blocked on londiste.table_info's lock.
    for (;;) {
      const w = await one(
        c,
        `select count(*)::int as n from pg_locks where pid = $1 and not granted
            and relation = 'londiste.table_info'::regclass`,
        [pid],
      );
      if (w.n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await c.query('commit');
    expect((await second).r).toBe(0);
  });
});

describe('obsolete partitions', () => {
  beforeAll(async () => {
    await c.query(`
      create table public.ob (id int);
      create table public.ob_2020 () inherits (public.ob);
      create table public.ob_2020_01 () inherits (public.ob);
      create table public.ob_2020_13 (id int);
      create table public.ob_2020_01_15 () inherits (public.ob);
      create table public.ob_2020_01_15_10 () inherits (public.ob);
      create table public.ob_2099_01_15_10 () inherits (public.ob);
      create table public.ob_a_2015 () inherits (public.ob);
      create table public."ob_X" () inherits (public.ob);
      create view public.ob_2012 as select 1;
      create table "Ev ü"."Big" (id int);
      create table "Ev ü"."Big_2011" () inherits ("Ev ü"."Big");
      create table "Ev ü"."Big_2010" (id int) partition by range (id);
      create table public."we(ird_2011" (id int);
    `);
  });

  it('is_obsolete_partition judges names against now() minus the retention', async () => {
    const { rows } = await c.query(
      `select t, p, londiste.is_obsolete_partition(t, '1 month', p) as o
         from unnest(array['hour', 'day', 'month', 'year', 'hourly', 'yearly']) p,
              unnest(array['x_2020', 'x_2020_01', 'x_2020_01_15', 'a.b_2020_01_15_10', 'x_2099_01_15_10', 'x_X', '2020']) t
        where londiste.is_obsolete_partition(t, '1 month', p) is not null
        order by 1, 2`,
    );
    expect(rows.map((r) => `${r.t} ${r.p} ${r.o}`)).toEqual([
      'a.b_2020_01_15_10 hour true',
      'a.b_2020_01_15_10 hourly true',
      'x_2020 year true',
      'x_2020 yearly true',
      'x_2020_01 month true',
      'x_2020_01_15 day true',
      'x_2099_01_15_10 hour false',
      'x_2099_01_15_10 hourly false',
    ]);
    // The boundary: the period holding now() - retention is kept, the one before goes.
    const edge = await one(
      c,
      `select londiste.is_obsolete_partition('p_' || to_char(now() - interval '1 month', 'YYYY_MM_DD'), '1 month', 'day') as keep,
              londiste.is_obsolete_partition('p_' || to_char(now() - interval '1 month 1 day', 'YYYY_MM_DD'), '1 month', 'day') as drop,
              londiste.is_obsolete_partition('x_2020', null, 'year') as no_retention`,
    );
    expect(edge).toEqual({ keep: false, drop: true, no_retention: false });
    for (const bad of ['week', 'HOUR', '', null]) {
      expect(
        await failure(c, `select londiste.is_obsolete_partition('x_2020', '1 month', $1)`, [bad]),
      ).toEqual({
        code: 'P0001',
        message: `not supported i_partition_period: ${bad ?? '<NULL>'}`,
      });
    }
  });

  it('list_obsolete_partitions finds tables named <parent>_<date> in the schema, quoted', async () => {
    const list = async (parent: string | null, period: string) =>
      (
        await c.query(
          `select * from londiste.list_obsolete_partitions($1, '1 month', $2) as l(p)`,
          [parent, period],
        )
      ).rows.map((r) => r.p);
    expect(await list('ob', 'year')).toEqual(['public.ob_2020']);
    expect(await list('public.ob', 'month')).toEqual(['public.ob_2020_01', 'public.ob_2020_13']);
    expect(await list('public.ob', 'daily')).toEqual(['public.ob_2020_01_15']);
    expect(await list('public.ob', 'hour')).toEqual(['public.ob_2020_01_15_10']);
    expect(await list('Ev ü.Big', 'year')).toEqual(['"Ev ü"."Big_2010"', '"Ev ü"."Big_2011"']);
    expect(await list('Ev ü.big', 'year')).toEqual([]);
    expect(await list('public.nosuch', 'year')).toEqual([]);
    // The parent's name is matched literally (upstream reads it as a regular expression).
    expect(await list('public.we(ird', 'year')).toEqual(['public."we(ird_2011"']);
    expect(
      await failure(
        c,
        `select * from londiste.list_obsolete_partitions('nosuch', '1 month', 'week')`,
      ),
    ).toEqual({
      code: 'P0001',
      message: 'not supported i_partition_period: week',
    });
    expect(
      await failure(c, `select * from londiste.list_obsolete_partitions(null, '1 month', 'year')`),
    ).toMatchObject({
      code: '22004',
    });
  });

  it('drop_obsolete_partitions drops and names them; a dependent view stops it whole', async () => {
    await c.query('create view public.ob_v as select * from public.ob_2020');
    expect(
      await failure(
        c,
        `select * from londiste.drop_obsolete_partitions('public.ob', '1 month', 'month')`,
      ),
    ).toBeNull();
    expect(
      await failure(
        c,
        `select * from londiste.drop_obsolete_partitions('public.ob', '1 month', 'year')`,
      ),
    ).toEqual({
      code: '2BP01',
      message: 'cannot drop table ob_2020 because other objects depend on it',
    });
    await c.query('drop view public.ob_v');
    const { rows } = await c.query(
      `select * from londiste.drop_obsolete_partitions('Ev ü.Big', '1 month', 'year') as d(p)`,
    );
    expect(rows.map((r) => r.p)).toEqual(['"Ev ü"."Big_2010"', '"Ev ü"."Big_2011"']);
    const left = await c.query(
      `select relname from pg_class where relname ~ '^(ob|Big)_' and relkind in ('r', 'p', 'v') order by 1`,
    );
    expect(left.rows.map((r) => r.relname)).toEqual([
      'ob_2012',
      'ob_2020',
      'ob_2020_01_15',
      'ob_2020_01_15_10',
      'ob_2099_01_15_10',
      'ob_X',
      'ob_a_2015',
    ]);
  });
});
