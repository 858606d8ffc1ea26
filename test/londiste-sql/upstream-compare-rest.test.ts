/**
 * Differential test: the same calls against upstream's londiste SQL 3.8 (Debian's
 * postgresql-15-londiste-sql, with its pgq and pgq_node, on PostgreSQL 15; .ci/run installs
 * it) and against ours, on a root and a branch each; rows, return codes, notes and errors
 * (SQLSTATE and message) must match. Behaviour only: no upstream code is read or used here.
 *
 * Behaviours verified this way (the non-table half of the schema):
 * - name helpers: split at the first dot, no unquoting; make_fqname adds public.; quote_fqname
 *   quotes each part; find_*_oid give NULL (no error) for missing relations, wrong kinds,
 *   quoted or upper-cased names; find_column_types is '' for a missing table; all strict.
 * - sequences: local_add_seq checks the sequence exists first (400 'Sequence not found: S',
 *   even on an unknown queue), then the node (unknown queue raises 'queue does not exist: Q');
 *   root: 200/201, publishes last_value + 30000 at once; replica: 404 'Unknown sequence: S'
 *   until the set has it, then seq_setval forward only; root_check_seqs: 100, 404 'Queue not
 *   found: Q' (NULL note for a NULL queue), 402 'Not a root node', publishes real + 3 x buffer
 *   when real + buffer >= published, a dropped sequence raises 42P01 'relation "S" does not
 *   exist'; global_update_seq: 404 'Set not found: Q', 402 'Must not run on root node', stores
 *   unknown sequences, NULL value = not-null violation; local_remove_seq: root removes from the
 *   set (400 when absent), replica 404 'Sequence not found: S' when not local;
 *   global_remove_seq: 200/400, root emits londiste.remove-seq; names go through make_fqname.
 * - execute_start: is_root_node first (unknown queue raises), 401 'Node is not root node: Q'
 *   only when expecting root, 201 'EXECUTE: "F" already applied, skipping', 200 'Executing: F',
 *   NULL file or SQL = not-null violations; execute_finish: 404 'execute_file called without
 *   execute_start' (looked up by file name only), root emits EXECUTE (sql, file, attrs) into
 *   the queue it is called for, every call.
 * - root_notify_change returns 1, 'only root node can send events' elsewhere;
 *   periodic_maintenance returns 0; set_session_replication_role: three values, 'bad value for
 *   session_replication_role' for anything else.
 * - fkeys: find_table_fkeys ordered by from, to, name, defs 'alter table only ... add
 *   constraint ...'; drop_table_fkey 1/0 by exact stored from-table name, duplicate pending =
 *   unique violation; restore: '' when nothing pending; non-lazy runs and forgets; lazy gives
 *   def || ' not valid', then 'validate constraint', then ''; get_table_pending_fkeys exact
 *   names; get_valid_pending_fkeys: local rows only, 'ok' with no snapshot on every local row
 *   (matched by dest_table when set), first queue by name responsible.
 * - create_partition: 'need table and part', parent missing = 42P01, 0 when it exists, LIKE
 *   INCLUDING ALL + INHERITS, owner, grants (owner's with grant option), triggers with enable
 *   state, rules, CHECK [trunc, trunc + 1 period) in the column's type, date_trunc's error for
 *   unknown units, 'query string argument of EXECUTE is null' for a NULL time or period.
 * - is/list/drop_obsolete_partitions: periods hour/day/month/year and -ly, 'not supported
 *   i_partition_period: P' (checked first), names by suffix, list by name in the parent's
 *   schema (tables and partitioned tables, not views or temp), quoted output in name order,
 *   plain DROP TABLE.
 * Differences kept on purpose (not compared here, documented in docs/londiste-sql.md):
 * find_column_types marks the primary key columns (upstream marks as many leading columns);
 * find_rel_oid(.., 'r') also finds partitioned tables; list_obsolete_partitions matches the
 * parent's name literally (upstream reads it as a regular expression).
 */
import type pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const test = useTestDatabase();

type Step = [node: 'root' | 'branch', sql: string, params?: unknown[]];

const events = `select ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3 from pgq.event_template order by ev_id`;

const setup: Step[] = [
  ['root', `select * from pgq_node.register_location('rq', 'n1', 'dbname=r', false)`],
  ['root', `select * from pgq_node.create_node('rq', 'root', 'n1', 'w', null, null, null)`],
  ['root', `select * from pgq_node.register_location('rq0', 'n1', 'dbname=r', false)`],
  ['root', `select * from pgq_node.create_node('rq0', 'root', 'n1', 'w', null, null, null)`],
  ['branch', `select * from pgq_node.register_location('bq', 'up', 'dbname=r', false)`],
  ['branch', `select * from pgq_node.register_location('bq', 'br', 'dbname=b', false)`],
  ['branch', `select * from pgq_node.create_node('bq', 'branch', 'br', 'w', 'up', 1, null)`],
];

const names: Step[] = [
  [
    'root',
    `create schema "Sch"; create table public.t1 (id int primary key, v text, "Odd Col" int);
     create table "Sch"."Tbl.x" (a int, b int, c text, primary key (a, b));
     create sequence public.s1; create sequence "Sch"."Seq"; create view public.v1 as select 1 as a;
     create table public."Üni" (id int)`,
  ],
  [
    'root',
    `select n, (londiste.split_fqname(n)).*, londiste.make_fqname(n), londiste.quote_fqname(n)
       from unnest(array['a.b.c', 'abc', '"A"."b"', '', '.x', 'x.', 'A', 'select', null]) n`,
  ],
  [
    'root',
    `select n, k, londiste.find_rel_oid(n, k)::regclass::text
       from unnest(array['t1', 'public.t1', 'T1', 'Sch.Tbl.x', '"Sch"."Tbl.x"', 's1', 'Sch.Seq', 'v1', 'Üni', 'nosuch', null]) n,
            unnest(array['r', 'S', 'v', 'x', null]) k`,
  ],
  [
    'root',
    `select londiste.find_table_oid('Sch.Tbl.x')::regclass::text, londiste.find_seq_oid('Sch.Seq')::regclass::text,
            londiste.find_table_oid('s1'), londiste.find_seq_oid('t1'), londiste.find_table_oid(null)`,
  ],
  [
    'root',
    `select londiste.find_column_types('t1'), londiste.find_column_types('Sch.Tbl.x'),
            londiste.find_column_types('Üni'), londiste.find_column_types('nosuch'), londiste.find_column_types('s1'),
            londiste.find_column_types(null)`,
  ],
  ['root', 'select londiste.version(), londiste.upgrade_schema()'],
  [
    'root',
    `select p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
              p.proisstrict, p.proretset, p.prosecdef
         from pg_proc p where p.pronamespace = 'londiste'::regnamespace and p.proname = any ($1) order by 1, 2`,
    [
      [
        'create_partition',
        'drop_obsolete_partitions',
        'drop_table_fkey',
        'execute_finish',
        'execute_start',
        'find_column_types',
        'find_rel_oid',
        'find_seq_oid',
        'find_table_fkeys',
        'find_table_oid',
        'get_seq_list',
        'get_table_pending_fkeys',
        'get_valid_pending_fkeys',
        'global_remove_seq',
        'global_update_seq',
        'is_obsolete_partition',
        'list_obsolete_partitions',
        'local_add_seq',
        'local_remove_seq',
        'make_fqname',
        'periodic_maintenance',
        'quote_fqname',
        'restore_table_fkey',
        'root_check_seqs',
        'root_notify_change',
        'set_session_replication_role',
        'split_fqname',
        'upgrade_schema',
        'version',
      ],
    ],
  ],
];

const sequences: Step[] = [
  ['root', `select * from londiste.local_add_seq('rq', 's1')`],
  ['root', `select * from londiste.local_add_seq('rq', 'public.s1')`],
  ['root', `select * from londiste.local_add_seq('rq', 'nosuch')`],
  ['root', `select * from londiste.local_add_seq('nosuchq', 's1')`],
  ['root', `select * from londiste.local_add_seq('nosuchq', 'nosuch')`],
  ['root', `select * from londiste.local_add_seq('rq', 'Sch.Seq')`],
  ['root', `select * from londiste.local_add_seq('rq', '"Sch"."Seq"')`],
  ['root', `select * from londiste.local_add_seq('rq', 't1')`],
  ['root', 'select * from londiste.local_add_seq($1, $2)', ['rq', null]],
  ['root', 'select * from londiste.local_add_seq($1, $2)', [null, 's1']],
  ['root', `select * from londiste.get_seq_list('rq')`],
  ['root', `select * from londiste.get_seq_list('nosuchq')`],
  ['root', `select * from londiste.root_check_seqs('rq')`],
  ['root', `select setval('public.s1', 29999)`],
  ['root', `select * from londiste.root_check_seqs('rq')`],
  ['root', `select setval('public.s1', 30000)`],
  ['root', `select * from londiste.root_check_seqs('rq', 10000)`],
  ['root', `select setval('public.s1', 70000, false)`],
  ['root', `select * from londiste.root_check_seqs('rq', 10000)`],
  ['root', `select * from londiste.root_check_seqs('rq', null)`],
  ['root', `select * from londiste.root_check_seqs('nosuch')`],
  ['root', 'select * from londiste.root_check_seqs($1)', [null]],
  ['root', 'select seq_name, local, last_value from londiste.seq_info order by nr'],
  ['root', `create sequence public.sb; select nextval('public.sb')`],
  ['root', `select * from londiste.local_add_seq('rq', 'sb')`],
  ['root', 'drop sequence public.sb'],
  ['root', `select * from londiste.root_check_seqs('rq')`],
  ['root', `select * from londiste.global_remove_seq('rq', 'sb')`],
  ['root', `select * from londiste.global_update_seq('rq', 's1', 5)`],
  ['root', `select * from londiste.global_update_seq('nosuch', 's1', 5)`],
  ['root', `select * from londiste.local_remove_seq('rq', 's1')`],
  ['root', `select * from londiste.local_remove_seq('rq', 's1')`],
  ['root', `select * from londiste.local_remove_seq('nosuchq', 's1')`],
  ['root', `select * from londiste.local_remove_seq('rq', null)`],
  ['root', `select * from londiste.global_remove_seq('rq', 'Sch.Seq')`],
  ['root', `select * from londiste.global_remove_seq('rq', 'Sch.Seq')`],
  ['root', `select * from londiste.global_remove_seq('nosuch', 'Sch.Seq')`],
  ['root', 'select seq_name, local, last_value from londiste.seq_info order by nr'],
  ['branch', `create sequence public.s1; create sequence "MiX"; select setval('s1', 500)`],
  ['branch', `select * from londiste.local_add_seq('bq', 's1')`],
  ['branch', `select * from londiste.root_check_seqs('bq')`],
  ['branch', `select * from londiste.global_update_seq('bq', 'public.s1', 100)`],
  ['branch', 'select last_value, is_called from public.s1'],
  ['branch', `select * from londiste.local_add_seq('bq', 's1')`],
  ['branch', 'select last_value, is_called from public.s1'],
  ['branch', `select * from londiste.local_add_seq('bq', 's1')`],
  ['branch', `select * from londiste.global_update_seq('bq', 'public.s1', 1000)`],
  ['branch', `select * from londiste.global_update_seq('bq', 'public.s1', 900)`],
  ['branch', 'select last_value, is_called from public.s1'],
  ['branch', `select * from londiste.global_update_seq('bq', 'MiX', 77)`],
  ['branch', `select * from londiste.local_add_seq('bq', 'MiX')`],
  ['branch', 'select last_value, is_called from "MiX"'],
  ['branch', `select * from londiste.global_update_seq('bq', 'public.gone', 77)`],
  ['branch', `select * from londiste.local_add_seq('bq', 'public.gone')`],
  ['branch', `select * from londiste.local_add_seq('bq', 'nosuch')`],
  ['branch', `select * from londiste.global_update_seq('bq', 'public.s1', null)`],
  ['branch', `select * from londiste.global_update_seq('bq', null, 5)`],
  ['branch', `select * from londiste.global_update_seq(null, 'public.s1', 5)`],
  ['branch', `select * from londiste.get_seq_list('bq')`],
  ['branch', `select * from londiste.local_remove_seq('bq', 's1')`],
  ['branch', `select * from londiste.local_remove_seq('bq', 's1')`],
  ['branch', `select * from londiste.local_remove_seq('bq', 'nosuch')`],
  ['branch', `select * from londiste.global_remove_seq('bq', 'public.s1')`],
  ['branch', `select * from londiste.global_remove_seq('bq', 'public.s1')`],
  ['branch', `select * from londiste.get_seq_list('bq')`],
  ['branch', events],
];

const execute: Step[] = [
  [
    'root',
    `select * from londiste.execute_start('rq', 'f1.sql', 'create table x1(a int);', true, 'Local-Table=x')`,
  ],
  ['root', `select * from londiste.execute_start('rq', 'f1.sql', 'other', true, 'Local-Table=x')`],
  ['root', `select * from londiste.execute_start('rq', 'f1.sql', 'other', false, null)`],
  ['root', `select * from londiste.execute_finish('rq', 'f1.sql')`],
  ['root', `select * from londiste.execute_finish('rq', 'f1.sql')`],
  ['root', `select * from londiste.execute_finish('rq', 'nosuch.sql')`],
  ['root', `select * from londiste.execute_start('rq', 'f2.sql', 'sql2', true)`],
  ['root', `select * from londiste.execute_start('rq', 'g1.sql', 'sqlg1', false, null)`],
  ['root', `select * from londiste.execute_start('rq', 'g2.sql', 'sqlg2', null, null)`],
  ['root', `select * from londiste.execute_finish('rq0', 'f2.sql')`],
  ['root', `select * from londiste.execute_start('nosuchq', 'f3.sql', 'sql2', true)`],
  ['root', `select * from londiste.execute_start('nosuchq', 'f3.sql', 'sql2', false)`],
  ['root', `select * from londiste.execute_start(null, 'f4.sql', 'sql2', false)`],
  ['root', `select * from londiste.execute_start('rq', null, 'sql2', false)`],
  ['root', `select * from londiste.execute_start('rq', 'f5', null, false)`],
  ['root', `select * from londiste.execute_finish('nosuchq', 'f2.sql')`],
  ['root', `select * from londiste.execute_finish('nosuchq', 'never.sql')`],
  ['root', `select * from londiste.execute_finish(null, 'f2.sql')`],
  [
    'root',
    'select queue_name, execute_file, execute_sql, execute_attrs from londiste.applied_execute order by 2',
  ],
  ['branch', `select * from londiste.execute_start('bq', 'f1.sql', 'x', true, null)`],
  ['branch', `select * from londiste.execute_start('bq', 'f1.sql', 'x', false, 'a=b')`],
  ['branch', `select * from londiste.execute_start('bq', 'f1.sql', 'x', true, 'a=b')`],
  ['branch', `select * from londiste.execute_start('bq', 'f1.sql', 'x', false, 'a=b')`],
  ['branch', `select * from londiste.execute_finish('bq', 'f1.sql')`],
  ['root', `select londiste.root_notify_change('rq', 'my.ev', 'payload')`],
  ['root', `select londiste.root_notify_change('nosuchq', 'my.ev', 'payload')`],
  ['root', `select londiste.root_notify_change(null, 'my.ev', 'payload')`],
  ['branch', `select londiste.root_notify_change('bq', 'x', 'y')`],
  [
    'root',
    `update londiste.applied_execute set execute_time = now() - interval '3 months 1 minute' where execute_file = 'f2.sql'`,
  ],
  [
    'root',
    `update londiste.applied_execute set execute_time = now() - interval '3 months' + interval '1 minute' where execute_file = 'f1.sql'`,
  ],
  ['root', 'select londiste.periodic_maintenance()'],
  ['root', 'select execute_file from londiste.applied_execute order by 1'],
  [
    'root',
    `select londiste.set_session_replication_role('replica', false), current_setting('session_replication_role')`,
  ],
  [
    'root',
    `select londiste.set_session_replication_role('local', true), current_setting('session_replication_role')`,
  ],
  ['root', `select current_setting('session_replication_role')`],
  ['root', `select londiste.set_session_replication_role('LOCAL', false)`],
  ['root', `select londiste.set_session_replication_role(null, false)`],
  [
    'root',
    `select londiste.set_session_replication_role('origin', null), current_setting('session_replication_role')`,
  ],
  ['root', events],
  ['branch', events],
];

const fkeys: Step[] = [
  [
    'root',
    `create table ref1 (id int primary key);
     create table "Sch"."Ref 2" (id int primary key, r1 int constraint "Fk Odd" references ref1 on delete cascade);
     create table child (id int primary key, r1 int references ref1 deferrable initially deferred, r2 int,
       constraint child_r2 foreign key (r2) references "Sch"."Ref 2"(id));
     create table selfref (id int primary key, parent int references selfref);
     alter table child add constraint nv foreign key (r1) references ref1 not valid`,
  ],
  ['root', `select * from londiste.find_table_fkeys('public.ref1')`],
  ['root', `select * from londiste.find_table_fkeys('ref1')`],
  ['root', `select * from londiste.find_table_fkeys('Sch.Ref 2')`],
  ['root', `select * from londiste.find_table_fkeys('public.child')`],
  ['root', `select * from londiste.find_table_fkeys('selfref')`],
  ['root', `select * from londiste.find_table_fkeys('nosuch')`],
  ['root', `select * from londiste.find_table_fkeys(null)`],
  ['root', `select londiste.drop_table_fkey('public.child', 'child_r1_fkey')`],
  ['root', `select londiste.drop_table_fkey('child', 'child_r2')`],
  ['root', `select londiste.drop_table_fkey('public.child', 'nosuch')`],
  ['root', `select londiste.drop_table_fkey('public.ref1', 'child_r2')`],
  ['root', `select londiste.drop_table_fkey('public.nosuch', 'nosuch')`],
  ['root', `select londiste.drop_table_fkey('Sch.Ref 2', 'Fk Odd')`],
  ['root', `select londiste.drop_table_fkey('public.child', 'nv')`],
  ['root', `select londiste.drop_table_fkey(null, 'x')`],
  ['root', 'select * from londiste.pending_fkeys order by 1, 3'],
  ['root', `select * from londiste.get_table_pending_fkeys('public.child')`],
  ['root', `select * from londiste.get_table_pending_fkeys('public.ref1')`],
  ['root', `select * from londiste.get_table_pending_fkeys('child')`],
  ['root', `select * from londiste.get_table_pending_fkeys(null)`],
  ['root', `select londiste.restore_table_fkey('public.child', 'child_r1_fkey')`],
  ['root', `select londiste.restore_table_fkey('public.child', 'child_r1_fkey')`],
  ['root', `select londiste.restore_table_fkey('public.child', 'nosuch', true)`],
  ['root', `select londiste.restore_table_fkey('Sch.Ref 2', 'Fk Odd', true)`],
  ['root', `select londiste.restore_table_fkey('Sch.Ref 2', 'Fk Odd', true)`],
  [
    'root',
    `alter table "Sch"."Ref 2" add constraint "Fk Odd" foreign key (r1) references ref1(id) on delete cascade not valid`,
  ],
  ['root', `select londiste.restore_table_fkey('Sch.Ref 2', 'Fk Odd', true)`],
  ['root', `select londiste.restore_table_fkey('Sch.Ref 2', 'Fk Odd', false)`],
  ['root', `alter table "Sch"."Ref 2" validate constraint "Fk Odd"`],
  ['root', `select londiste.restore_table_fkey('Sch.Ref 2', 'Fk Odd', true)`],
  ['root', `select londiste.restore_table_fkey('public.child', 'nv', true)`],
  ['root', `alter table child add constraint child_r1_fkey foreign key (r1) references ref1`],
  ['root', `select londiste.drop_table_fkey('public.child', 'child_r1_fkey')`],
  ['root', 'drop table child'],
  ['root', `select londiste.restore_table_fkey('public.child', 'nv')`],
  ['root', 'select * from londiste.pending_fkeys order by 1, 3'],
  ['root', 'delete from londiste.pending_fkeys'],
  [
    'root',
    `insert into londiste.pending_fkeys values ('public.a', 'public.b', 'a_fk', 'def1'),
       ('public.c', 'public.b', 'c_fk', 'def2'), ('public.b', 'public.b', 'b_self', 'def3'),
       ('public.Z', 'public.b', 'z_fk', 'def4')`,
  ],
  [
    'root',
    `insert into londiste.table_info (queue_name, table_name, local, merge_state) values
       ('rq', 'public.a', true, 'ok'), ('rq', 'public.b', true, 'ok'), ('rq0', 'public.c', true, 'ok'),
       ('rq0', 'public.Z', false, 'ok')`,
  ],
  [
    'root',
    `select q, v.* from unnest(array['rq', 'rq0', 'nosuch']) q, londiste.get_valid_pending_fkeys(q) v`,
  ],
  ['root', `update londiste.table_info set custom_snapshot = '1:2:' where table_name = 'public.b'`],
  [
    'root',
    `select q, v.* from unnest(array['rq', 'rq0']) q, londiste.get_valid_pending_fkeys(q) v`,
  ],
  [
    'root',
    `update londiste.table_info set custom_snapshot = null, merge_state = '?' where table_name = 'public.b'`,
  ],
  [
    'root',
    `select q, v.* from unnest(array['rq', 'rq0']) q, londiste.get_valid_pending_fkeys(q) v`,
  ],
  ['root', `update londiste.table_info set merge_state = 'ok', local = true`],
  [
    'root',
    `select q, v.* from unnest(array['rq', 'rq0']) q, londiste.get_valid_pending_fkeys(q) v`,
  ],
  [
    'root',
    `update londiste.table_info set table_name = 'public.x', dest_table = 'public.a' where table_name = 'public.a'`,
  ],
  [
    'root',
    `update londiste.table_info set dest_table = 'public.other' where table_name = 'public.c'`,
  ],
  [
    'root',
    `select q, v.* from unnest(array['rq', 'rq0']) q, londiste.get_valid_pending_fkeys(q) v`,
  ],
  [
    'root',
    `insert into londiste.table_info (queue_name, table_name, local, merge_state) values ('rq0', 'public.a', true, 'in-copy')`,
  ],
  [
    'root',
    `select q, v.* from unnest(array['rq', 'rq0']) q, londiste.get_valid_pending_fkeys(q) v`,
  ],
  ['root', `select * from londiste.get_valid_pending_fkeys(null)`],
];

const partitions: Step[] = [
  [
    'root',
    `set client_min_messages = warning;
     do $$ begin
       if not exists (select 1 from pg_roles where rolname = 'cmp_r1') then create role cmp_r1; end if;
       if not exists (select 1 from pg_roles where rolname = 'cmp_r2') then create role cmp_r2; end if;
     end $$;
     create schema ev;
     create table ev.log (id int primary key, ts timestamptz not null default now(), v text check (v <> 'x'), u int unique);
     create index log_v on ev.log (v);
     grant select on ev.log to cmp_r1; grant insert, update on ev.log to cmp_r2 with grant option;
     grant delete on ev.log to public;
     create function ev.trgf() returns trigger language plpgsql as $f$ begin return new; end $f$;
     create trigger t_on before insert on ev.log for each row execute procedure ev.trgf();
     create trigger t_off after update on ev.log for each row execute procedure ev.trgf();
     alter table ev.log disable trigger t_off;
     create trigger t_rep after delete on ev.log for each row when (old.id > 0) execute procedure ev.trgf();
     alter table ev.log enable replica trigger t_rep;
     create trigger "T Stmt" after truncate on ev.log for each statement execute procedure ev.trgf();
     create rule r_nodel as on delete to ev.log where old.id < 0 do instead nothing;
     alter table ev.log owner to cmp_r1;
     create table "Ev Up" ("Id" int, "Ts" timestamp, d date);
     create table haspk (id int primary key, ts timestamptz);
     create rule "Odd Rule" as on insert to haspk where new.id < 0 do instead nothing;
     create table pp (id int, ts timestamptz) partition by range (ts)`,
  ],
  ['root', `set timezone = 'UTC'`],
  [
    'root',
    `select londiste.create_partition('ev.log', 'ev.log_2024_05_06', 'id', 'ts', '2024-05-06 13:45:00+00', 'day')`,
  ],
  [
    'root',
    `select londiste.create_partition('ev.log', 'ev.log_2024_05_06', 'id', 'ts', '2024-05-06 13:45:00+00', 'day')`,
  ],
  [
    'root',
    `select relname, relacl::text, pg_get_userbyid(relowner),
            (select string_agg(pg_get_constraintdef(oid), '; ' order by conname) from pg_constraint where conrelid = c.oid) as checks,
            (select string_agg(tgname || ' ' || tgenabled || ' ' || pg_get_triggerdef(oid), '; ' order by tgname)
               from pg_trigger where tgrelid = c.oid) as triggers,
            (select string_agg(rulename || ' ' || pg_get_ruledef(oid), '; ') from pg_rewrite where ev_class = c.oid) as rules,
            (select string_agg(indexrelid::regclass::text, ', ' order by 1) from pg_index where indrelid = c.oid) as indexes
       from pg_class c where relname = 'log_2024_05_06'`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'public.Ev Up_2024', 'Id', 'Ts', '2024-05-06 13:45:00+00', 'year')`,
  ],
  [
    'root',
    `select londiste.create_partition('Ev Up', 'Ev Up_2024_05', 'Id,d', 'd', '2024-05-06 13:45:00+00', 'month')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'public.Ev Up_h', null, null, '2024-05-06 13:45:00+00', 'hour')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'public.Ev Up_w', 'Id', 'Ts', '2024-05-06 13:45:00+00', 'week')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'public.Ev Up_x', 'Id', 'Ts', '2024-05-06 13:45:00+00', 'monthly')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'public.Ev Up_y', 'Id', 'Ts', '2024-05-06 13:45:00+00', null)`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'public.Ev Up_z', 'Id', 'Ts', null, 'day')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.nosuch', 'public.nosuch_1', 'Id', 'Ts', now(), 'day')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'ev.other_1', 'Id', 'Ts', '2024-05-06 13:45:00+00', 'day')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'nosch.other_1', 'Id', 'Ts', '2024-05-06 13:45:00+00', 'day')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', 'public.Ev Up_bad', 'Id', 'nocol', '2024-05-06 13:45:00+00', 'day')`,
  ],
  [
    'root',
    `select londiste.create_partition('public.Ev Up', null, 'Id', 'Ts', '2024-05-06 13:45:00+00', 'hour')`,
  ],
  [
    'root',
    `select londiste.create_partition(null, 'x', 'Id', 'Ts', '2024-05-06 13:45:00+00', 'hour')`,
  ],
  [
    'root',
    `select londiste.create_partition('haspk', 'haspk_1', 'id', 'ts', '2024-05-06 13:45:00+00', 'day')`,
  ],
  [
    'root',
    `select londiste.create_partition('pp', 'pp_1', 'id', 'ts', '2024-05-06 13:45:00+00', 'day')`,
  ],
  [
    'root',
    `select c.relname, c.relacl::text, pg_get_userbyid(c.relowner),
            (select string_agg(pg_get_constraintdef(oid), '; ' order by conname) from pg_constraint where conrelid = c.oid) as checks,
            (select string_agg(rulename || ' ' || pg_get_ruledef(oid), '; ') from pg_rewrite where ev_class = c.oid) as rules
       from pg_class c where c.relkind = 'r' and c.relname ~ '_(1|2024|2024_05|h|w|x|y|z)$'
        and c.relnamespace in ('public'::regnamespace, 'ev'::regnamespace) order by 1`,
  ],
  [
    'root',
    `create table ob (id int);
     create table ob_2020 () inherits (ob); create table ob_2020_01 () inherits (ob);
     create table ob_2020_01_15 () inherits (ob); create table ob_2020_01_15_10 () inherits (ob);
     create table ob_2099_01_15_10 () inherits (ob); create table "ob_X" () inherits (ob);
     create table ob_2020_13 () inherits (ob); create table ob_2019 (id int);
     create table ob_a_2015 () inherits (ob); create view ob_2012 as select 1;
     create table "Big" (id int); create table "Big_2011" () inherits ("Big"); create table "big_2010" (id int);
     create table pq_2010 (id int, ts timestamptz) partition by range (ts); create unlogged table pq_2008 (a int);
     create temp table pq_2007 (a int)`,
  ],
  [
    'root',
    `select t, p, londiste.is_obsolete_partition(t, '1 month', p)
       from unnest(array['hour', 'day', 'month', 'year', 'hourly', 'daily', 'monthly', 'yearly']) p,
            unnest(array['public.ob_2020', 'public.ob_2020_01', 'public.ob_2020_01_15', 'public.ob_2020_01_15_10',
                         'public.ob_2099_01_15_10', 'public.ob_X', 'ob_2020', 'x_2020_13', 'x_0000_00_00',
                         'a.b.x_2026_11_06', '2026_11_06', 'x_2026_11_06 ', 'x_2026_1_07', null]) t
      order by 1, 2`,
  ],
  [
    'root',
    `select londiste.is_obsolete_partition('p_' || to_char(now() - interval '1 month', 'YYYY_MM_DD'), '1 month', 'day'),
            londiste.is_obsolete_partition('p_' || to_char(now() - interval '1 month 1 day', 'YYYY_MM_DD'), '1 month', 'day'),
            londiste.is_obsolete_partition('p_' || to_char(now(), 'YYYY_MM_DD_HH24'), '0', 'hour'),
            londiste.is_obsolete_partition('x_2020', null, 'year'),
            londiste.is_obsolete_partition('x_2020', '-100 years', 'year')`,
  ],
  ['root', `select londiste.is_obsolete_partition('x_2020', '1 month', 'week')`],
  ['root', `select londiste.is_obsolete_partition(null, '1 month', 'HOUR')`],
  ['root', `select londiste.is_obsolete_partition('x_2020', '1 month', null)`],
  ['root', `select londiste.is_obsolete_partition('x_2020', '1 month', '')`],
  [
    'root',
    `select p, l from unnest(array['year', 'month', 'day', 'hour', 'hourly']) p, londiste.list_obsolete_partitions('public.ob', '1 month', p) l`,
  ],
  ['root', `select * from londiste.list_obsolete_partitions('ob', '1 month', 'year')`],
  ['root', `select * from londiste.list_obsolete_partitions('public.Big', '1 month', 'year')`],
  ['root', `select * from londiste.list_obsolete_partitions('public.big', '1 month', 'year')`],
  ['root', `select * from londiste.list_obsolete_partitions('public.pq', '1 month', 'year')`],
  ['root', `select * from londiste.list_obsolete_partitions('public.nosuch', '1 month', 'year')`],
  ['root', `select * from londiste.list_obsolete_partitions('public.ob', null, 'year')`],
  ['root', `select * from londiste.list_obsolete_partitions('public.nosuch', '1 month', 'week')`],
  ['root', `select * from londiste.list_obsolete_partitions('public.ob', '1 month', null)`],
  ['root', `create view ob_v as select * from ob_2019`],
  ['root', `select * from londiste.drop_obsolete_partitions('public.ob', '1 month', 'year')`],
  ['root', 'drop view ob_v'],
  ['root', `select * from londiste.drop_obsolete_partitions('public.ob', '1 month', 'year')`],
  ['root', `select * from londiste.drop_obsolete_partitions('public.ob', '1 month', 'year')`],
  ['root', `select * from londiste.drop_obsolete_partitions('public.ob', '1 month', 'week')`],
  ['root', `select * from londiste.drop_obsolete_partitions('public.Big', '1 month', 'yearly')`],
  [
    'root',
    `select relname from pg_class where relname ~ '^(ob|Big|big)_' and relkind in ('r', 'p', 'v') order by 1`,
  ],
];

async function run(db: pg.Client, sql: string, params?: unknown[]) {
  try {
    const result = (await db.query(sql, params)) as pg.QueryResult | pg.QueryResult[];
    return { rows: Array.isArray(result) ? result.map((r) => r.rows) : result.rows };
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { error: { code, message } };
  }
}

type Nodes = Record<'upstream' | 'ours', Record<'root' | 'branch', pg.Client>>;

/** Run steps on both sides; the differences, numbered from the first step given. */
async function compare(nodes: Nodes, steps: Step[]) {
  const mismatches: unknown[] = [];
  for (const [i, [node, sql, params]] of steps.entries()) {
    const upstream = await run(nodes.upstream[node], sql, params);
    const ours = await run(nodes.ours[node], sql, params);
    try {
      expect(ours).toEqual(upstream);
    } catch {
      mismatches.push({ step: i, node, sql, params, upstream, ours });
    }
  }
  return mismatches;
}

// One root and one branch on each side for the whole file (database creation is the slow
// part); the scripts run in order and build on each other's objects.
describe('londiste SQL (sequences, execute, fkeys, partitions, names) against upstream 3.8', () => {
  let nodes: Nodes | null = null;

  beforeAll(async () => {
    const { rows } = await test.query(
      `select 1 from pg_available_extensions where name = 'londiste'`,
    );
    if (rows.length === 0) return;
    const template = { template: test.cluster.templateDatabase };
    nodes = {
      upstream: {
        root: await test.connect({ database: await test.createDatabase('up_root') }),
        branch: await test.connect({ database: await test.createDatabase('up_branch') }),
      },
      ours: {
        root: await test.connect({ database: await test.createDatabase('root', template) }),
        branch: await test.connect({ database: await test.createDatabase('branch', template) }),
      },
    };
    for (const db of Object.values(nodes.upstream)) {
      await db.query('set client_min_messages = warning');
      await db.query('create extension londiste cascade');
    }
    expect(await compare(nodes, setup)).toEqual([]);
  });

  it.each([
    ['name helpers', names],
    ['sequences on a root and a branch', sequences],
    ['execute, notify, maintenance, replication role', execute],
    ['foreign keys and pending keys', fkeys],
    ['partitions', partitions],
  ] as const)('%s: the same results, codes, notes and errors', async (_title, script) => {
    if (nodes === null) {
      // Only Debian's PostgreSQL 15 packages have it; .ci/run installs them there.
      expect(test.cluster.pgMajor).not.toBe(15);
      return;
    }
    expect(await compare(nodes, script)).toEqual([]);
  });

  it('differs where upstream is wrong, and only there', async () => {
    if (nodes === null) return;
    const ddl = `create table late_pk (a int, b int, c int, primary key (c)); create table "we(ird_2011" (a int);
                 create table parted (id int) partition by range (id)`;
    const probe = `select londiste.find_column_types('late_pk') as types,
                          londiste.find_table_oid('parted') is not null as parted_found,
                          (select array_agg(l) from londiste.list_obsolete_partitions('public.we(ird', '1 month', 'year') l) as listed`;
    await nodes.upstream.root.query(ddl);
    await nodes.ours.root.query(ddl);
    // upstream marks as many leading columns as the key has, and reads the parent's name as
    // a regular expression
    expect(
      await run(nodes.upstream.root, 'select londiste.find_column_types($1) as t', ['late_pk']),
    ).toEqual({
      rows: [{ t: 'kvv' }],
    });
    expect(await run(nodes.upstream.root, probe)).toEqual({
      error: { code: '2201B', message: 'invalid regular expression: parentheses () not balanced' },
    });
    expect((await run(nodes.ours.root, probe)).rows).toEqual([
      { types: 'vvk', parted_found: true, listed: ['public."we(ird_2011"'] },
    ]);
    expect(await run(nodes.upstream.root, `select londiste.find_table_oid('parted') as o`)).toEqual(
      {
        rows: [{ o: null }],
      },
    );
  });
});
