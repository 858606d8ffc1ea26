-- pgq.get_batch_events(x_batch_id): all events of a batch, in ev_id order.
--
-- Parameters: x_batch_id: an open batch.
-- Result: ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4 (no ev_owner).
-- Errors: those of pgq.batch_event_sql ('batch not found').
-- Writes: nothing.
create or replace function pgq.get_batch_events(
  in x_batch_id bigint,
  out ev_id bigint,
  out ev_time timestamptz,
  out ev_txid bigint,
  out ev_retry int4,
  out ev_type text,
  out ev_data text,
  out ev_extra1 text,
  out ev_extra2 text,
  out ev_extra3 text,
  out ev_extra4 text)
returns setof record
language plpgsql
as $$
begin
  return query execute pgq.batch_event_sql(x_batch_id);
end;
$$;
