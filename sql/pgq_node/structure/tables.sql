-- Schema pgq_node: the four tables of a cascade node (§2.1). Re-runnable: each object is
-- created only when missing, so installing over an existing schema keeps the node's state.

-- The node's queue lives in schema pgq and its consumers are pgq consumers: refuse early,
-- with a message that says what to do, rather than fail on the first foreign key.
do $requires$
begin
  if pg_catalog.to_regclass('pgq.consumer') is null
     or pg_catalog.to_regprocedure('pgq.version()') is null then
    raise exception 'schema pgq_node needs schema pgq, which is not installed in database %',
      current_database()
      using hint = 'install pgq first (skytools install pgq pgq_node, or psql -1 -f pgq.sql)';
  end if;
end
$requires$;

create schema if not exists pgq_node;

-- Every member of every cascade this database takes part in, with its public connect string.
-- The same rows exist on every node; pgq.location-info events from the root keep them so.
create table if not exists pgq_node.node_location (
  queue_name text not null,
  node_name text not null,
  node_location text not null,
  dead boolean not null default false,
  primary key (queue_name, node_name)
);

-- What this database is in a cascade: one row per cascaded queue.
create table if not exists pgq_node.node_info (
  queue_name text not null primary key,
  node_type text not null,
  node_name text not null,
  worker_name text,
  combined_queue text,
  node_attrs text,
  foreign key (queue_name, node_name) references pgq_node.node_location,
  check (node_type in ('root', 'branch', 'leaf')),
  check (case when node_type = 'root' then worker_name is not null and combined_queue is null
              when node_type = 'branch' then worker_name is not null and combined_queue is null
              when node_type = 'leaf' then worker_name is not null
              else false end)
);

-- Position of each cascaded consumer that writes into this node (the node's worker and plain
-- cascaded consumers), and the node it reads from.
create table if not exists pgq_node.local_state (
  queue_name text not null,
  consumer_name text not null,
  provider_node text not null,
  last_tick_id bigint not null,
  cur_error text,
  paused boolean not null default false,
  uptodate boolean not null default false,
  primary key (queue_name, consumer_name),
  foreign key (queue_name) references pgq_node.node_info,
  foreign key (queue_name, provider_node) references pgq_node.node_location
);

-- Nodes that read this node's queue, with the two pgq consumers each one owns here.
create table if not exists pgq_node.subscriber_info (
  queue_name text not null,
  subscriber_node text not null,
  worker_name text not null,
  watermark_name text not null,
  primary key (queue_name, subscriber_node),
  foreign key (queue_name) references pgq_node.node_info,
  foreign key (queue_name, subscriber_node) references pgq_node.node_location,
  foreign key (worker_name) references pgq.consumer (co_name),
  foreign key (watermark_name) references pgq.consumer (co_name)
);
