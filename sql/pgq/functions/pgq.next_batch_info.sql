-- pgq.next_batch_info(i_queue_name, i_consumer_name): open the consumer's next batch (or return
-- its open one) and describe it.
--
-- Parameters: i_queue_name, i_consumer_name: the subscription.
-- Result (one row): batch_id, cur_tick_id, prev_tick_id, cur_tick_time, prev_tick_time,
--   cur_tick_event_seq, prev_tick_event_seq; all NULL when there is no batch yet.
-- Writes: pgq.subscription (through pgq.next_batch_custom).
create or replace function pgq.next_batch_info(
  in i_queue_name text,
  in i_consumer_name text,
  out batch_id int8,
  out cur_tick_id int8,
  out prev_tick_id int8,
  out cur_tick_time timestamptz,
  out prev_tick_time timestamptz,
  out cur_tick_event_seq int8,
  out prev_tick_event_seq int8)
language plpgsql
as $$
begin
  select n.batch_id, n.cur_tick_id, n.prev_tick_id, n.cur_tick_time, n.prev_tick_time,
         n.cur_tick_event_seq, n.prev_tick_event_seq
    into batch_id, cur_tick_id, prev_tick_id, cur_tick_time, prev_tick_time,
         cur_tick_event_seq, prev_tick_event_seq
    from pgq.next_batch_custom(i_queue_name, i_consumer_name, null, null, null) n;
end;
$$;
