-- pgq.get_batch_info(x_batch_id): describe an open batch.
--
-- Parameters: x_batch_id: the batch.
-- Result (one row; all NULL for an unknown batch): queue_name, consumer_name,
--   batch_start (start tick time), batch_end (end tick time), prev_tick_id, tick_id,
--   lag (now - batch_end), seq_start, seq_end (event sequence at the two ticks).
-- Writes: nothing.
create or replace function pgq.get_batch_info(
  in x_batch_id bigint,
  out queue_name text,
  out consumer_name text,
  out batch_start timestamptz,
  out batch_end timestamptz,
  out prev_tick_id bigint,
  out tick_id bigint,
  out lag interval,
  out seq_start bigint,
  out seq_end bigint)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select q.queue_name, c.co_name, pt.tick_time, ct.tick_time, s.sub_last_tick, s.sub_next_tick,
         pg_catalog.now() - ct.tick_time, pt.tick_event_seq, ct.tick_event_seq
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.consumer c on c.co_id = s.sub_consumer
    left join pgq.tick pt on pt.tick_queue = s.sub_queue and pt.tick_id = s.sub_last_tick
    left join pgq.tick ct on ct.tick_queue = s.sub_queue and ct.tick_id = s.sub_next_tick
   where s.sub_batch = $1;
$$;
