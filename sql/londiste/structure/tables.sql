-- Schema londiste: the four tables of a replicating node (§6.3). Re-runnable: each object is
-- created only when missing, so installing over an existing schema keeps the node's tables,
-- sequences and the record of applied scripts.

-- Every table belongs to a cascaded queue (a pgq_node node): refuse early, with a message
-- that says what to do, rather than fail on the first foreign key.
do $requires$
begin
  if pg_catalog.to_regclass('pgq_node.node_info') is null
     or pg_catalog.to_regprocedure('pgq.version()') is null then
    raise exception 'schema londiste needs schemas pgq and pgq_node, which are not installed in database %',
      current_database()
      using hint = 'install them first (skytools install pgq pgq_node londiste, or psql -1 -f for each)';
  end if;
end
$requires$;

create schema if not exists londiste;

-- Every table known in the set of a queue; `local` marks the ones replicated into this
-- database. merge_state is the copy state (NULL = needs copy, in-copy, catching-up,
-- wanna-sync:T, do-sync:T, ok); custom_snapshot the copy's source snapshot while it still
-- filters events; dropped_ddl what a copy dropped and must restore; table_attrs urlencoded
-- options (handler, skip_truncate, copy_node, max_parallel_copy); dest_table the local table
-- events go to when it differs from table_name.
create table if not exists londiste.table_info (
  nr serial not null,
  queue_name text not null,
  table_name text not null,
  local boolean not null default false,
  merge_state text,
  custom_snapshot text,
  dropped_ddl text,
  table_attrs text,
  dest_table text,
  primary key (queue_name, table_name),
  foreign key (queue_name) references pgq_node.node_info (queue_name)
    on delete cascade,
  check (dropped_ddl is null or merge_state in ('in-copy', 'catching-up'))
);

-- Sequences of the set and the last value the root published for each.
create table if not exists londiste.seq_info (
  nr serial not null,
  queue_name text not null,
  seq_name text not null,
  local boolean not null default false,
  last_value int8 not null,
  primary key (queue_name, seq_name),
  foreign key (queue_name) references pgq_node.node_info (queue_name)
    on delete cascade
);

-- Scripts `execute` has run in this database (by file name), so a replayed EXECUTE event
-- or a second run of the same file is skipped; rows older than 3 months are removed by
-- londiste.periodic_maintenance().
create table if not exists londiste.applied_execute (
  queue_name text not null,
  execute_file text not null,
  execute_time timestamptz not null default now(),
  execute_sql text not null,
  execute_attrs text,
  primary key (execute_file)
);

-- Foreign keys dropped around a table's copy, with the definition that restores them.
create table if not exists londiste.pending_fkeys (
  from_table text not null,
  to_table text not null,
  fkey_name text not null,
  fkey_def text not null,
  primary key (from_table, fkey_name)
);
