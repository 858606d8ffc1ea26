-- pgq._insert_event_general(queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer,
--   ev_retry integer, ev_type text, ev_data text, ev_extra1 text, ev_extra2 text,
--   ev_extra3 text, ev_extra4 text, i_seq_id bigint) → bigint
--
-- The complete insert of one event, for every case: pgq.insert_event and
-- pgq.insert_event_raw take a faster path of their own (see pgq._generate_insert_functions)
-- and come here for everything else (unknown queue, inserts disabled, per-transaction limit,
-- a queue or table newer than the generated code). Part of the calling transaction. Every
-- call takes nextval of the queue's event sequence once (here, unless the hot path already
-- did), even when ev_id is given: that is how the ticker sees new events.
--
-- Parameters: as pgq.insert_event_raw; i_seq_id: the value the caller's hot path has already
--   taken from the queue's event sequence (it is not taken twice), or NULL.
-- Result: the event id.
-- Errors: those of pgq._insert_target.
-- Tables written: pgq.event_N_<cur>; the queue's event sequence.
create or replace function pgq._insert_event_general(
  queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer, ev_retry integer,
  ev_type text, ev_data text, ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text,
  i_seq_id bigint)
returns bigint
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  v_target record;
  v_id bigint;
begin
  v_target := pgq._insert_target(_insert_event_general.queue_name, 1);
  if i_seq_id is null then
    v_id := nextval(v_target.event_seq::regclass);
    -- The hot path has done this already when it took the id.
    if pg_sequence_last_value('pgq.ticker_wakeup'::regclass) is not null then
      perform pgq._ticker_wakeup(_insert_event_general.queue_name);
    end if;
  else
    v_id := i_seq_id;
  end if;
  if _insert_event_general.ev_id is not null then
    v_id := _insert_event_general.ev_id;
  end if;

  execute format(
    'insert into %s (ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type, ev_data,'
    ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
    ' values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)', v_target.table_name)
    using v_id, coalesce(_insert_event_general.ev_time, now()), v_target.txid,
          _insert_event_general.ev_owner, _insert_event_general.ev_retry,
          _insert_event_general.ev_type, _insert_event_general.ev_data,
          _insert_event_general.ev_extra1, _insert_event_general.ev_extra2,
          _insert_event_general.ev_extra3, _insert_event_general.ev_extra4;
  return v_id;
end;
$$;
