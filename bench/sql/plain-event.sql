-- The baseline of the produce and read workloads: a plain table of the event shape, with the
-- defaults a PgQ event table gets (ev_id from a sequence, ev_txid from txid_current(); ev_time
-- defaults to now() so a plain INSERT can leave it out as insert_event does), the same ev_txid
-- index and the storage settings pgq.tune_storage gives event tables.
create schema if not exists bench;
drop table if exists bench.plain_event;
drop sequence if exists bench.plain_event_seq;
create sequence bench.plain_event_seq;
create table bench.plain_event (
  ev_id bigint not null default nextval('bench.plain_event_seq'),
  ev_time timestamptz not null default now(),
  ev_txid bigint not null default txid_current(),
  ev_owner integer,
  ev_retry integer,
  ev_type text,
  ev_data text,
  ev_extra1 text,
  ev_extra2 text,
  ev_extra3 text,
  ev_extra4 text
) with (fillfactor = 100, autovacuum_enabled = off, toast.autovacuum_enabled = off);
create index plain_event_txid_idx on bench.plain_event (ev_txid);
