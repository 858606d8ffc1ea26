-- Schema pgq_ext: what a remote consumer has applied to this (target) database, recorded in
-- the same transaction as its effects, so a batch replayed after a crash is recognised and
-- skipped. Re-runnable: tables are created only when missing; older layouts (no
-- subconsumer_id) are brought up to date by pgq_ext.upgrade_schema() in structure/upgrade.sql.

create schema if not exists pgq_ext;

-- The last tick a serial consumer applied.
create table if not exists pgq_ext.completed_tick (
  consumer_id text not null,
  subconsumer_id text not null default '',
  last_tick_id bigint not null,
  primary key (consumer_id, subconsumer_id)
);

-- The last batch a consumer applied whole.
create table if not exists pgq_ext.completed_batch (
  consumer_id text not null,
  subconsumer_id text not null default '',
  last_batch_id bigint not null,
  primary key (consumer_id, subconsumer_id)
);

-- Events applied one by one, for the batch in partial_batch only.
create table if not exists pgq_ext.completed_event (
  consumer_id text not null,
  subconsumer_id text not null default '',
  batch_id bigint not null,
  event_id bigint not null,
  primary key (consumer_id, subconsumer_id, batch_id, event_id)
);

-- The batch whose events completed_event holds.
create table if not exists pgq_ext.partial_batch (
  consumer_id text not null,
  subconsumer_id text not null default '',
  cur_batch_id bigint not null,
  primary key (consumer_id, subconsumer_id)
);
