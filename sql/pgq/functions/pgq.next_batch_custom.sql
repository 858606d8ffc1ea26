-- pgq.next_batch_custom(i_queue_name, i_consumer_name, i_min_lag, i_min_count, i_min_interval):
-- open the consumer's next batch, or return its open one again.
--
-- Parameters:
--   i_queue_name, i_consumer_name  the subscription
--   i_min_lag       no batch while its end tick is younger than this (NULL = no limit)
--   i_min_count     the end tick must be at least this many events (by event sequence) after the
--                   start tick ...
--   i_min_interval  ... or at least this much later; both NULL = simply the next tick
-- Result (one row): batch_id, cur_tick_id, prev_tick_id, cur_tick_time, prev_tick_time,
--   cur_tick_event_seq, prev_tick_event_seq; all NULL when there is no batch yet. The
--   event-seq columns only hint at the batch size.
-- Errors: 'Not subscriber to queue: <queue>/<consumer>',
--   'PgQ corruption: Consumer % on queue % does not see tick %'.
-- Writes: pgq.subscription (sub_batch, sub_next_tick, sub_active) when a new batch opens;
--   pgq.batch_id_seq. A repeated or empty poll writes nothing.
--
-- The subscription row is locked first, so two sessions asking for the same consumer's batch
-- at once get the same batch, never two.
create or replace function pgq.next_batch_custom(
  in i_queue_name text,
  in i_consumer_name text,
  in i_min_lag interval,
  in i_min_count int4,
  in i_min_interval interval,
  out batch_id int8,
  out cur_tick_id int8,
  out prev_tick_id int8,
  out cur_tick_time timestamptz,
  out prev_tick_time timestamptz,
  out cur_tick_event_seq int8,
  out prev_tick_event_seq int8)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue_id integer;
  v_consumer_id integer;
  v_open_batch bigint;
  v_last_tick bigint;
  v_next_tick bigint;
begin
  select s.sub_queue, s.sub_consumer, s.sub_batch, s.sub_last_tick, s.sub_next_tick
    into v_queue_id, v_consumer_id, v_open_batch, v_last_tick, v_next_tick
    from pgq.queue q
    join pgq.subscription s on s.sub_queue = q.queue_id
    join pgq.consumer c on c.co_id = s.sub_consumer
   where q.queue_name = i_queue_name
     and c.co_name = i_consumer_name
     for update of s;
  if not found then
    raise exception 'Not subscriber to queue: %/%', i_queue_name, i_consumer_name
      using hint = 'register the consumer first with pgq.register_consumer()';
  end if;

  if v_open_batch is not null then
    -- The batch is not finished yet: hand it out again.
    select t.tick_time, t.tick_event_seq into prev_tick_time, prev_tick_event_seq
      from pgq.tick t
     where t.tick_queue = v_queue_id and t.tick_id = v_last_tick;
    select t.tick_time, t.tick_event_seq into cur_tick_time, cur_tick_event_seq
      from pgq.tick t
     where t.tick_queue = v_queue_id and t.tick_id = v_next_tick;
    batch_id := v_open_batch;
    prev_tick_id := v_last_tick;
    cur_tick_id := v_next_tick;
    return;
  end if;

  select t.tick_time, t.tick_event_seq into prev_tick_time, prev_tick_event_seq
    from pgq.tick t
   where t.tick_queue = v_queue_id and t.tick_id = v_last_tick;
  if v_last_tick is null or not found then
    raise exception 'PgQ corruption: Consumer % on queue % does not see tick %',
      i_consumer_name, i_queue_name, v_last_tick
      using hint = 'reposition the consumer with pgq.register_consumer_at()';
  end if;

  if i_min_count is null and i_min_interval is null then
    select t.tick_id, t.tick_time, t.tick_event_seq
      into cur_tick_id, cur_tick_time, cur_tick_event_seq
      from pgq.tick t
     where t.tick_queue = v_queue_id and t.tick_id > v_last_tick
     order by t.tick_queue, t.tick_id
     limit 1;
  else
    select h.next_tick_id, h.next_tick_time, h.next_tick_seq
      into cur_tick_id, cur_tick_time, cur_tick_event_seq
      from pgq.find_tick_helper(v_queue_id, v_last_tick, prev_tick_time, prev_tick_event_seq,
                                i_min_count, i_min_interval) h;
  end if;

  if cur_tick_id is null
     or (i_min_lag is not null and now() - cur_tick_time < i_min_lag) then
    -- Nothing to do yet. As upstream, an empty poll writes nothing: a row update per poll
    -- would pile up dead tuples in pgq.subscription under a long-held xmin.
    batch_id := null;
    cur_tick_id := null;
    prev_tick_id := null;
    cur_tick_time := null;
    prev_tick_time := null;
    cur_tick_event_seq := null;
    prev_tick_event_seq := null;
    return;
  end if;

  batch_id := nextval('pgq.batch_id_seq');
  prev_tick_id := v_last_tick;
  update pgq.subscription
     set sub_batch = batch_id,
         sub_next_tick = cur_tick_id,
         sub_active = now()
   where sub_queue = v_queue_id and sub_consumer = v_consumer_id;
  return;
end;
$$;
