/**
 * The calls the differential test (upstream-compare-tables.test.ts) makes against upstream's
 * londiste 3.8 and against ours. One database per side holds several queues: a root (rq), a
 * branch (bq), a leaf (lq), and a combined root (cq) fed by two merge leaves (p1, p2).
 *
 * Behaviours verified this way (each step's rows, codes, notes and errors must match):
 * - local_add_table on a root: added (state ok, londiste.add-table event), already added,
 *   410 with the stored attributes, 404 missing table / view / partitioned table, 400 no
 *   primary key, 400 'No such set', 405 merge-all with no-merge, virtual_table (no checks, no
 *   triggers), no_triggers, NULL arguments, quoted/dotted/upper-case/unicode names, a table
 *   in another schema, a dropped table, dest_table (label 't(dest)', ev_extra1);
 * - local_add_table on a branch and a leaf: 404 'not available', state NULL or ok with
 *   expect_sync, skip_truncate into table_attrs (alone and after a handler), 'deny' on leaves;
 * - merge leaves: 405 'multiple sources' and 'found local table' (the table is marked local
 *   anyway, as upstream), merge_all, no_merge, the table added to the combined root with its
 *   event and triggers;
 * - global_add_table / global_remove_table on root, branch and merge leaf (combined queue
 *   rows), unknown queues;
 * - local_remove_table on root (row and event) and elsewhere (state cleared), dropped DDL
 *   run again, not found, not local;
 * - local_change_handler, local_set_table_state / _attrs / _struct, get_table_list,
 *   _coordinate_copy (lead, wait-copy, wait-replay, copy_pos), local_show_missing on root
 *   and elsewhere, is_replica_func, drop_table_triggers;
 * - special arguments on root and branch (skip, tgflags with S, no_triggers, virtual_table),
 *   a merge leaf whose combined queue is a branch, a merge leaf with a destination table, a
 *   table whose key a merged copy dropped, local_show_missing with sequences, temp and
 *   unlogged tables and a materialized view, NULL inputs to every function;
 * - create_trigger: every tgflags letter and combination, SKIP/skip arguments, an existing
 *   SKIP trigger renamed, 403 and 405, 201 for no_triggers/virtual_table, drop and re-create
 *   on changed arguments, ev_extra1 for a destination table, 'deny' on leaves, the truncate
 *   trigger, names that need quoting; the triggers themselves compared by pg_get_triggerdef.
 */
export type Step = [sql: string, params?: unknown[]];

const triggers: Step = [
  `select tgrelid::regclass::text as rel, tgname, pg_get_triggerdef(oid) as def
  from pg_trigger
 where not tgisinternal
   -- our pgq keeps a trigger of its own on pgq.queue; upstream's C pgq has none
   and tgrelid not in (select oid from pg_class where relnamespace = 'pgq'::regnamespace)
 order by 1, 2`,
];
const tables: Step = ['select * from londiste.table_info order by queue_name, table_name'];
const events: Step = [
  `select ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
  from pgq.event_template order by ev_id`,
];
const list = (q: string): Step => ['select * from londiste.get_table_list($1)', [q]];
const add = (q: string, t: string, ...rest: unknown[]): Step => {
  const args = [q, t, ...rest];
  const placeholders = args.map((_, i) => `$${i + 1}`).join(', ');
  return [`select * from londiste.local_add_table(${placeholders})`, args];
};
const ct = (t: string, args: string[], dest = t, q = 'rq', type = 'root'): Step => [
  'select * from londiste.create_trigger($1, $2, $3, $4, $5)',
  [q, t, args, dest, type],
];

export const setupSteps: Step[] = [
  [`select * from pgq_node.register_location('rq', 'n1', 'dbname=n1', false)`],
  [`select * from pgq_node.create_node('rq', 'root', 'n1', 'w', null, null, null)`],
  [`select * from pgq_node.register_location('bq', 'n0', 'dbname=n0', false)`],
  [`select * from pgq_node.register_location('bq', 'n1', 'dbname=n1', false)`],
  [`select * from pgq_node.create_node('bq', 'branch', 'n1', 'w', 'n0', 1, null)`],
  [`select * from pgq_node.register_location('lq', 'n0', 'dbname=n0', false)`],
  [`select * from pgq_node.register_location('lq', 'n1', 'dbname=n1', false)`],
  [`select * from pgq_node.create_node('lq', 'leaf', 'n1', 'w', 'n0', 1, null)`],
  [`select * from pgq_node.register_location('cq', 'm', 'dbname=m', false)`],
  [`select * from pgq_node.create_node('cq', 'root', 'm', 'w', null, null, null)`],
  [`select * from pgq_node.register_location('p1', 'm', 'dbname=m', false)`],
  [`select * from pgq_node.register_location('p1', 'r1', 'dbname=r1', false)`],
  [`select * from pgq_node.create_node('p1', 'leaf', 'm', 'w1', 'r1', 1, 'cq')`],
  [`select * from pgq_node.register_location('p2', 'm', 'dbname=m', false)`],
  [`select * from pgq_node.register_location('p2', 'r2', 'dbname=r2', false)`],
  [`select * from pgq_node.create_node('p2', 'leaf', 'm', 'w2', 'r2', 1, 'cq')`],
  ['create function ft() returns trigger language plpgsql as $$begin return new; end$$'],
  ['create table t1 (id int primary key, v text)'],
  ['create table t2 (id int primary key, v text)'],
  ['create table t3 (id int primary key, v text)'],
  ['create table nopk (id int, v text)'],
  ['create table pt (id int primary key) partition by range (id)'],
  ['create view vw as select 1 as id'],
  ['create sequence s1'],
  ['create schema "Sch ü"'],
  [`create table "Sch ü"."T.'x""" (id int primary key, v text)`],
  ['create table "Upper" ("Id" int primary key)'],
  ['create table dest1 (id int primary key, v text)'],
  ['create table gone (id int primary key)'],
];

export const registrationSteps: Step[] = [
  add('rq', 't1'),
  add('rq', 't1'),
  add('rq', 't1', ['backup']),
  add('rq', 't1', ['x'], 'handler=foo'),
  add('rq', 'public.t1', null, null, null),
  add('rq', 'nopk'),
  add('rq', 'missing'),
  add('nosuch', 'missing'),
  add('nosuch', 't2'),
  add('rq', 'pt'),
  add('rq', 'vw'),
  add('rq', 'vw', ['virtual_table']),
  add('rq', 'public.ghost', ['virtual_table']),
  add('rq', 't2', ['merge_all', 'no_merge']),
  add('rq', `Sch ü.T.'x"`, ['tgflags=BI', 'backup']),
  add('rq', 'Upper'),
  add('rq', 'upper'),
  add('rq', 't3', ['no_triggers', 'skip_truncate'], 'handler=h'),
  add('rq', 't3', ['skip_truncate'], 'handler=h'),
  add('rq', 't3', [], 'handler=h'),
  add('rq', 't3', [], null),
  add('rq', 'src1', ['ev_extra2=1'], null, 'dest1'),
  add('rq', 'src1', ['ev_extra2=1'], null, 'dest1'),
  add('rq', 'src2', [], null, 'nodest'),
  ['drop table gone'],
  ['create table first1 (id int primary key)'],
  ['create trigger _a after insert or update on first1 for each row execute procedure ft()'],
  ['create trigger "A" after delete on first1 for each row execute procedure ft()'],
  add('rq', 'first1'),
  add('rq', 'gone'),
  add(null as unknown as string, 't1', ['x']),
  add('rq', null as unknown as string),
  list('rq'),
  ['select * from londiste.local_show_missing($1)', ['rq']],
  // branch: the table must be in the set first
  add('bq', 't1'),
  ['select * from londiste.global_add_table($1, $2)', ['bq', 't1']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 'public.t1']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 't2']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 't3']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 'Upper']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 'Nope.x']],
  ['select * from londiste.global_add_table($1, $2)', ['nosuch', 't1']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 'src1']],
  add('bq', 't1'),
  add('bq', 't2', ['expect_sync', 'skip_truncate']),
  add('bq', 't3', ['skip_truncate'], 'handler=x'),
  add('bq', 't3', ['skip_truncate'], 'handler=y'),
  add('bq', 'src1', [], null, 'dest1'),
  ['select * from londiste.local_show_missing($1)', ['bq']],
  list('bq'),
  // leaf
  ['select * from londiste.global_add_table($1, $2)', ['lq', 't1']],
  ['select * from londiste.global_add_table($1, $2)', ['lq', 't2']],
  add('lq', 't1', ['tgflags=BIJ']),
  add('lq', 't2', ['expect_sync', 'SKIP']),
  list('lq'),
  // merge leaves and the combined root
  ['create table m1 (id int primary key, v text)'],
  ['create table m2 (id int primary key, v text)'],
  ['create table m3 (id int primary key, v text)'],
  ['create table m4 (id int primary key, v text)'],
  ['create trigger "A1" after insert on m2 for each row execute procedure ft()'],
  ['select * from londiste.global_add_table($1, $2)', ['p1', 'm1']],
  ['select * from londiste.global_add_table($1, $2)', ['p2', 'm1']],
  ['select * from londiste.global_add_table($1, $2)', ['p1', 'm2']],
  ['select * from londiste.global_add_table($1, $2)', ['p1', 'm3']],
  ['select * from londiste.global_add_table($1, $2)', ['p2', 'm3']],
  ['select * from londiste.global_add_table($1, $2)', ['p1', 'm4']],
  ['select * from londiste.global_add_table($1, $2)', ['p2', 'm4']],
  list('cq'),
  add('p1', 'm1'),
  add('p1', 'm1', ['merge_all']),
  add('p1', 'm2'),
  add('p2', 'm3', ['no_merge']),
  add('p1', 'm3', ['merge_all']),
  add('p2', 'm4', ['merge_all', 'backup']),
  list('p1'),
  list('p2'),
  list('cq'),
  ['select * from londiste.local_show_missing($1)', ['p1']],
  ['select * from londiste.local_show_missing($1)', ['cq']],
  ['select * from londiste.local_show_missing($1)', ['nosuch']],
  // copy coordination of m4 (p1 and p2 copying into one table)
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', 'public.m4']],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['p1', 'm4', null, 'in-copy']],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['p2', 'm4', null, 'in-copy']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', 'public.m4']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p2', 'public.m4']],
  list('p2'),
  [
    'select * from londiste.local_set_table_struct($1, $2, $3)',
    ['p1', 'public.m4', 'alter table m4 add constraint m4_v unique (v)'],
  ],
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', 'public.m4']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p2', 'public.m4']],
  [
    'select * from londiste.local_set_table_state($1, $2, $3, $4)',
    ['p1', 'm4', '1:2:', 'catching-up'],
  ],
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', 'public.m4']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p2', 'public.m4']],
  [
    'select * from londiste.local_set_table_state($1, $2, $3, $4)',
    ['p2', 'm4', '1:2:', 'catching-up'],
  ],
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', 'public.m4']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p2', 'public.m4']],
  list('p1'),
  list('p2'),
  ['select * from londiste._coordinate_copy($1, $2)', ['nosuch', 'public.m4']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', null]],
  // states, attributes, struct
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['bq', 't1', '1:2:', 'in-copy']],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['bq', 'public.t1', null, null]],
  [
    'select * from londiste.local_set_table_state($1, $2, $3, $4)',
    ['bq', 'public.zz', '1:2:', 'ok'],
  ],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['bq', 'Nope.x', null, 'ok']],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['bq', 't1', null, 'in-copy']],
  ['select * from londiste.local_set_table_struct($1, $2, $3)', ['bq', 'public.t1', 'select 1']],
  ['select * from londiste.local_set_table_struct($1, $2, $3)', ['bq', 't1', 'select 1']],
  ['select * from londiste.local_set_table_struct($1, $2, $3)', ['bq', 'public.zz', 'x']],
  ['select * from londiste.local_set_table_struct($1, $2, $3)', ['bq', 'public.t2', 'x']],
  ['select * from londiste.local_set_table_attrs($1, $2, $3)', ['bq', 'public.t1', 'a=1']],
  ['select * from londiste.local_set_table_attrs($1, $2, $3)', ['bq', 't1', 'a=1']],
  ['select * from londiste.local_set_table_attrs($1, $2, $3)', ['bq', 'Nope.x', 'a=1']],
  ['select * from londiste.local_set_table_attrs($1, $2, $3)', ['bq', 'public.zz', null]],
  list('bq'),
  // change handler
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['bq', 'public.t1', ['backup'], 'handler=z'],
  ],
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['bq', 'public.t3', ['tgflags=BS'], 'handler=z'],
  ],
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['bq', 'public.t3', ['tgflags=AI'], null],
  ],
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['bq', 'public.zz', ['backup'], 'handler=z'],
  ],
  ['select * from londiste.local_change_handler($1, $2, $3, $4)', ['bq', 't2', [], 'handler=z']],
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['lq', 'public.t1', ['tgflags=BIUQ'], null],
  ],
  list('bq'),
  triggers,
  // removal
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['bq', 't1', null, 'in-copy']],
  [
    'select * from londiste.local_set_table_struct($1, $2, $3)',
    ['bq', 'public.t1', 'create index t1_v on t1 (v)'],
  ],
  ['select * from londiste.local_remove_table($1, $2)', ['lq', 't1']],
  ['select * from londiste.local_remove_table($1, $2)', ['bq', 't1']],
  ['select * from londiste.local_remove_table($1, $2)', ['bq', 't1']],
  ['select * from londiste.local_remove_table($1, $2)', ['bq', 'Nope.x']],
  ['select * from londiste.local_remove_table($1, $2)', ['nosuch', 't1']],
  ['select indexname from pg_indexes where tablename = $1 order by 1', ['t1']],
  list('bq'),
  ['select * from londiste.global_remove_table($1, $2)', ['bq', 't2']],
  ['select * from londiste.global_remove_table($1, $2)', ['bq', 't2']],
  ['select * from londiste.global_remove_table($1, $2)', ['bq', 'Nope.x']],
  ['select * from londiste.global_remove_table($1, $2)', ['nosuch', 't1']],
  ['select * from londiste.local_remove_table($1, $2)', ['rq', 't1']],
  ['select * from londiste.local_remove_table($1, $2)', ['rq', 't1']],
  ['select * from londiste.global_remove_table($1, $2)', ['rq', 'public.t3']],
  ['select * from londiste.global_remove_table($1, $2)', ['rq', 't3']],
  ['select * from londiste.local_remove_table($1, $2)', ['rq', `Sch ü.T.'x"`]],
  ['select * from londiste.local_remove_table($1, $2)', ['p1', 'm2']],
  ['select * from londiste.global_remove_table($1, $2)', ['p2', 'm3']],
  list('rq'),
  list('p1'),
  list('cq'),
  ['select londiste.drop_table_triggers($1, $2)', ['cq', 'public.m2']],
  ['select londiste.drop_table_triggers($1, $2)', ['cq', 'public.nosuch']],
  ['select londiste.drop_table_triggers($1, $2)', ['nosuch', 'public.m2']],
  ['select londiste.drop_table_triggers($1, $2)', ['rq', 'src1']],
  ['select londiste.drop_table_triggers($1, $2)', ['rq', 'public.first1']],
  ['select * from londiste.local_remove_table($1, $2)', ['lq', 't2']],
  ['select * from londiste.local_remove_table($1, $2)', ['rq', 'src1']],
  ['create table d2 (id int primary key)'],
  ['create table d3 (id int primary key)'],
  add('rq', 's2', null, null, 'd2'),
  add('rq', 's3', null, null, 'd3'),
  ['select londiste.drop_table_triggers($1, $2)', ['rq', 'public.d2']],
  ['select londiste.drop_table_triggers($1, $2)', ['rq', 'public.s3']],
  [`delete from londiste.table_info where table_name = 'public.s2'`],
  tables,
  events,
  triggers,
  [
    `select londiste.is_replica_func('pgq.logutriga'::regproc) a,
      londiste.is_replica_func('pgq.sqltriga'::regproc) b,
      londiste.is_replica_func('pgq.jsontriga'::regproc) c,
      londiste.is_replica_func('ft'::regproc) d, londiste.is_replica_func(0) e,
      londiste.is_replica_func(null) f`,
  ],
];

export const edgeSteps: Step[] = [
  add('rq', 't1', ['skip']),
  add('rq', 't2', ['tgflags=BIS', 'expect_sync']),
  add('rq', 't3', [], 'a=1'),
  add('rq', 't3', [], null),
  add('rq', 't3', null, 'a=1'),
  ['select * from londiste.global_add_table($1, $2)', ['bq', 't1']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 'vt']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 'nt']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', 'nopk']],
  ['create table nt (id int primary key)'],
  add('bq', 't1', ['skip', 'no_triggers']),
  add('bq', 'vt', ['virtual_table']),
  add('bq', 'nt', ['no_triggers', 'expect_sync']),
  add('bq', 'nopk', ['virtual_table']),
  list('bq'),
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['bq', 'public.vt', [], 'handler=vtable'],
  ],
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['bq', 'public.nt', ['virtual_table'], null],
  ],
  [
    'select * from londiste.local_change_handler($1, $2, $3, $4)',
    ['rq', 'public.t1', ['tgflags=BS'], null],
  ],
  ['select * from londiste.local_change_handler($1, $2, $3, $4)', [null, null, null, null]],
  // a merge leaf whose combined queue is a branch: 'ok' at once, no multiple-sources refusal
  [`select * from pgq_node.register_location('cb', 'm', 'dbname=m', false)`],
  [`select * from pgq_node.register_location('cb', 'top', 'dbname=top', false)`],
  [`select * from pgq_node.create_node('cb', 'branch', 'm', 'w', 'top', 1, null)`],
  [`select * from pgq_node.register_location('p3', 'm', 'dbname=m', false)`],
  [`select * from pgq_node.register_location('p3', 'r3', 'dbname=r3', false)`],
  [`select * from pgq_node.create_node('p3', 'leaf', 'm', 'w3', 'r3', 1, 'cb')`],
  [`select * from pgq_node.register_location('p4', 'm', 'dbname=m', false)`],
  [`select * from pgq_node.register_location('p4', 'r4', 'dbname=r4', false)`],
  [`select * from pgq_node.create_node('p4', 'leaf', 'm', 'w4', 'r4', 1, 'cb')`],
  ['create table mb (id int primary key)'],
  ['select * from londiste.global_add_table($1, $2)', ['p3', 'mb']],
  ['select * from londiste.global_add_table($1, $2)', ['p4', 'mb']],
  add('p4', 'mb', ['no_merge']),
  add('p3', 'mb'),
  list('p3'),
  list('p4'),
  list('cb'),
  // a merge leaf: destination table, and a table without key whose key a copy dropped
  ['create table md (id int primary key)'],
  ['create table mk (id int)'],
  ['select * from londiste.global_add_table($1, $2)', ['p1', 'ms']],
  ['select * from londiste.global_add_table($1, $2)', ['p2', 'ms']],
  add('p1', 'ms', ['merge_all'], null, 'md'),
  ['select * from londiste.global_add_table($1, $2)', ['p1', 'mk']],
  ['select * from londiste.global_add_table($1, $2)', ['p2', 'mk']],
  add('p1', 'mk', ['no_merge']),
  [
    `update londiste.table_info set local = true, merge_state = 'in-copy', dropped_ddl = 'x' where queue_name = 'p1' and table_name = 'public.mk'`,
  ],
  add('p2', 'mk', ['no_merge']),
  add('rq', 'mk'),
  list('p1'),
  list('p2'),
  list('cq'),
  // sequences and other kinds in local_show_missing
  [
    `insert into londiste.seq_info (queue_name, seq_name, local, last_value) values ('rq', 'public.s1', true, 1), ('bq', 'public.s1', false, 1)`,
  ],
  ['create sequence s2'],
  ['create temp table tmp1 (id int)'],
  ['create unlogged table ul (id int primary key)'],
  ['create materialized view mv as select 1'],
  ['select * from londiste.local_show_missing($1)', ['rq']],
  ['select * from londiste.local_show_missing($1)', ['bq']],
  ['select * from londiste.local_show_missing($1)', [null]],
  // events from the root only
  ['select londiste.root_notify_change($1, $2, $3)', ['rq', 'londiste.x', 'data']],
  ['select londiste.root_notify_change($1, $2, $3)', ['bq', 'londiste.x', 'data']],
  ['select londiste.root_notify_change($1, $2, $3)', ['nosuch', 'londiste.x', 'data']],
  ['select londiste.root_notify_change($1, $2, $3)', [null, 'londiste.x', 'data']],
  // a late source: the others copied without dropping DDL, so the lead does not drop it
  ['create table ml (id int primary key)'],
  ['select * from londiste.global_add_table($1, $2)', ['p1', 'ml']],
  ['select * from londiste.global_add_table($1, $2)', ['p2', 'ml']],
  add('p2', 'ml', ['merge_all']),
  [
    'select * from londiste.local_set_table_state($1, $2, $3, $4)',
    ['p2', 'ml', '1:1:', 'catching-up'],
  ],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['p1', 'ml', null, 'in-copy']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', 'public.ml']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p2', 'public.ml']],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', ['p2', 'ml', null, 'ok']],
  ['select * from londiste._coordinate_copy($1, $2)', ['p1', 'public.ml']],
  [
    'select * from londiste.local_set_table_state($1, $2, $3, $4)',
    ['p2', 'ml', null, 'wanna-sync:5'],
  ],
  ['select * from londiste.get_table_list($1)', ['p1']],
  ['select * from londiste.get_table_list($1)', ['p2']],
  // NULL and unknown inputs everywhere
  list('nosuch'),
  ['select * from londiste.get_table_list($1)', [null]],
  ['select * from londiste.global_add_table($1, $2)', [null, 't1']],
  ['select * from londiste.global_add_table($1, $2)', ['bq', null]],
  ['select * from londiste.global_remove_table($1, $2)', [null, 't1']],
  ['select * from londiste.local_remove_table($1, $2)', ['rq', null]],
  ['select * from londiste.local_set_table_state($1, $2, $3, $4)', [null, null, null, null]],
  ['select * from londiste.local_set_table_attrs($1, $2, $3)', [null, null, null]],
  ['select * from londiste.local_set_table_struct($1, $2, $3)', [null, null, null]],
  ['select * from londiste._coordinate_copy($1, $2)', [null, 'x']],
  ['select londiste.drop_table_triggers($1, $2)', [null, 'x']],
  [
    'select * from londiste.create_trigger($1, $2, $3, $4, $5)',
    ['rq', null, [], 'public.t1', 'root'],
  ],
  add('rq', 't1', [null]),
  add('rq', 't1', ['tgflags=']),
  tables,
  events,
  triggers,
];

export const triggerSteps: Step[] = [
  ['create table c1 (id int primary key, v text)'],
  ct('public.c1', []),
  ct('public.c1', []),
  ct('public.c1', ['backup']),
  ct('public.c1', ['tgflags=BIUQ']),
  ct('public.c1', ['tgflags=AD', 'backup'], 'public.c1', 'rq', 'leaf'),
  ct('public.c1', ['tgflags=S']),
  ct('public.c1', ['tgflags=AS']),
  ct('public.c1', ['SKIP']),
  ct('public.c1', ['tgflags=BS'], 'public.c1', 'q2'),
  ct('public.c1', ['skip'], 'public.c1', 'q3'),
  ct('public.c1', ['tgflags=Z'], 'public.c1', 'q4'),
  ct('public.c1', ['tgflags=bl'], 'public.c1', 'q5'),
  ['create table c2 (id int primary key, v text)'],
  [
    'create trigger foo before insert on c2 for each row execute procedure pgq.logutriga($$x$$, $$SKIP$$)',
  ],
  ct('public.c2', []),
  ct('public.c2', ['tgflags=B']),
  ct('public.c2', ['tgflags=AS'], 'public.c2', 'q6'),
  ct('public.c2', ['tgflags=BS', 'backup'], 'public.c2', 'q7'),
  [
    'create trigger bar before insert on c2 for each row execute procedure pgq.sqltriga($$y$$, $$SKIP$$)',
  ],
  ct('public.c2', ['tgflags=BS'], 'public.c2', 'q8'),
  ct('public.c2', ['tgflags=AS'], 'public.c2', 'q9'),
  ['create table c3 (id int primary key, v text)'],
  ct('public.c3', ['tgflags=BS', 'backup']),
  ct('public.c3', ['tgflags=BS', 'backup']),
  ct('public.c3', ['backup', 'SKIP', 'ignore=v', 'tgflags=B'], 'public.c3', 'q2'),
  ct('public.c3', ['tgflags=BSQ', 'ev_extra1=v', 'when=id>0'], 'public.c3', 'q3', 'leaf'),
  ct('public.c3', ['tgflags=BIJ', 'pkey=id'], 'public.c4', 'q4', 'branch'),
  ct('public.c3', ['tgflags=BIJ', 'pkey=id'], 'public.c3', 'q4', 'branch'),
  ct('public.c3', ['foo=1', 'tgflags=B'], 'public.c3', 'q5', 'branch'),
  ['create table c5 (id int primary key, v text)'],
  ct('public.c3', ['backup', 'tgflags=A', `ev_extra3='a'`], 'public.c5', 'q5', 'leaf'),
  ct('public.c3', ['tgflags=BS', 'backup'], 'public.c5', 'q6', 'leaf'),
  ct(
    'public.c5',
    ['expect_sync', 'skip_truncate', 'merge_all', 'no_merge', 'tgflags=B', 'foo=1'],
    'public.c5',
    'q7',
  ),
  ct('public.c5', ['no_triggers', 'foo'], 'public.c5', 'q8'),
  ct('public.c5', ['virtual_table'], 'public.c5', 'q8'),
  ct('public.nosuch', [], 'public.nosuch'),
  ['create table nopk2 (id int)'],
  ct('public.nopk2', ['tgflags=BIUD']),
  ['create table "Odd ü"."T""1" (id int primary key)'],
  ['create schema "Odd ü"'],
  ['create table "Odd ü"."T""1" (id int primary key)'],
  ct('Odd ü.T"1', ['tgflags=S', `when=id>0`], 'Odd ü.T"1', `q 'x"`, 'leaf'),
  ct('Odd ü.T"1', ['tgflags=B'], 'Odd ü.T"1', `q 'x"`, 'leaf'),
  ['create table c6 (id int primary key)'],
  ct('public.c6', [`a\\b`, `it's`], 'public.c6', 'rq', null as unknown as string),
  ct('public.c6', [`a\\b`, `it's`], 'public.c6', 'rq', null as unknown as string),
  ct('public.c6', null as unknown as string[]),
  ct('public.c6', ['tgflags=']),
  triggers,
];
