-- Schema pgq: the tables every queue shares. Re-runnable: each object is created only when
-- missing, so installing over an existing schema keeps queues, consumers, ticks and events.

create schema if not exists pgq;

-- Consumer names, shared by every queue the consumer reads.
create table if not exists pgq.consumer (
  co_id serial primary key,
  co_name text not null unique
);

-- One row per queue: its settings and the state of its rotating event tables.
create table if not exists pgq.queue (
  queue_id serial primary key,
  queue_name text not null unique,
  queue_ntables integer not null default 3,
  queue_cur_table integer not null default 0,
  queue_rotation_period interval not null default '2 hours',
  queue_switch_step1 bigint not null default txid_current(),
  queue_switch_step2 bigint default txid_current(),
  queue_switch_time timestamptz not null default now(),
  queue_external_ticker boolean not null default false,
  queue_disable_insert boolean not null default false,
  queue_ticker_paused boolean not null default false,
  queue_ticker_max_count integer not null default 500,
  queue_ticker_max_lag interval not null default '3 seconds',
  queue_ticker_idle_period interval not null default '1 minute',
  queue_per_tx_limit integer,
  queue_data_pfx text not null,
  queue_event_seq text not null,
  queue_tick_seq text not null,
  queue_extra_maint text[]
);

-- Ticks: snapshots that bound batches.
create table if not exists pgq.tick (
  tick_queue integer not null references pgq.queue (queue_id),
  tick_id bigint not null,
  tick_time timestamptz not null default now(),
  tick_snapshot txid_snapshot not null default txid_current_snapshot(),
  tick_event_seq bigint not null,
  primary key (tick_queue, tick_id)
);

create sequence if not exists pgq.batch_id_seq;

-- pgqd's wake-up flag (ours), one per database: NULL (never set, or reset with is_called
-- false) while pgqd polls; the epoch second until which it sleeps and wants a NOTIFY
-- pgq_wakeup from producers (pgq._ticker_wakeup). A sequence because producers read it on
-- every insert and pgqd flips it without a transaction: no row, no lock, no dead tuple.
create sequence if not exists pgq.ticker_wakeup;

-- A consumer's registration on a queue and its position. sub_id is not unique: cooperative
-- subconsumers share their main consumer's sub_id.
create table if not exists pgq.subscription (
  sub_id serial not null,
  sub_queue integer not null references pgq.queue (queue_id),
  sub_consumer integer not null references pgq.consumer (co_id),
  sub_last_tick bigint,
  sub_active timestamptz not null default now(),
  sub_batch bigint unique,
  sub_next_tick bigint,
  primary key (sub_queue, sub_consumer)
);

-- Parent of every event table: selecting from it shows the events of all queues.
create table if not exists pgq.event_template (
  ev_id bigint not null,
  ev_time timestamptz not null,
  ev_txid bigint not null default txid_current(),
  ev_owner integer,
  ev_retry integer,
  ev_type text,
  ev_data text,
  ev_extra1 text,
  ev_extra2 text,
  ev_extra3 text,
  ev_extra4 text
);

-- Events waiting to be put back into their queue for one consumer.
create table if not exists pgq.retry_queue (
  ev_retry_after timestamptz not null,
  ev_queue integer not null references pgq.queue (queue_id),
  like pgq.event_template,
  primary key (ev_owner, ev_id)
);
alter table pgq.retry_queue alter column ev_txid drop not null;
create index if not exists rq_retry_idx on pgq.retry_queue (ev_retry_after);
