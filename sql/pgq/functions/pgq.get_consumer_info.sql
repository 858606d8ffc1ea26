-- pgq.get_consumer_info() / (i_queue_name) / (i_queue_name, i_consumer_name): consumers and
-- their positions.
--
-- Parameters: i_queue_name, i_consumer_name: filters; NULL (or a shorter form) = all.
-- Result (ordered by queue_name, consumer_name): queue_name, consumer_name,
--   lag (now - time of the consumer's last tick), last_seen (now - sub_active),
--   last_tick, current_batch, next_tick,
--   pending_events (latest tick's event seq - the consumer's last tick's event seq; an
--   estimate). Cooperative subconsumers show NULL last_tick, lag and pending_events.
-- Writes: nothing.
create or replace function pgq.get_consumer_info(
  in i_queue_name text,
  in i_consumer_name text,
  out queue_name text,
  out consumer_name text,
  out lag interval,
  out last_seen interval,
  out last_tick bigint,
  out current_batch bigint,
  out next_tick bigint,
  out pending_events bigint)
returns setof record
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select q.queue_name, c.co_name,
         pg_catalog.now() - lt.tick_time,
         pg_catalog.now() - s.sub_active,
         s.sub_last_tick, s.sub_batch, s.sub_next_tick,
         top.tick_event_seq - lt.tick_event_seq
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.consumer c on c.co_id = s.sub_consumer
    left join pgq.tick lt on lt.tick_queue = s.sub_queue and lt.tick_id = s.sub_last_tick
    left join lateral (
      select t.tick_event_seq
        from pgq.tick t
       where t.tick_queue = q.queue_id
       order by t.tick_queue desc, t.tick_id desc
       limit 1) top on true
   where ($1 is null or q.queue_name = $1)
     and ($2 is null or c.co_name = $2)
   order by q.queue_name, c.co_name;
$$;

create or replace function pgq.get_consumer_info(
  in i_queue_name text,
  out queue_name text,
  out consumer_name text,
  out lag interval,
  out last_seen interval,
  out last_tick bigint,
  out current_batch bigint,
  out next_tick bigint,
  out pending_events bigint)
returns setof record
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select * from pgq.get_consumer_info($1, null::text);
$$;

create or replace function pgq.get_consumer_info(
  out queue_name text,
  out consumer_name text,
  out lag interval,
  out last_seen interval,
  out last_tick bigint,
  out current_batch bigint,
  out next_tick bigint,
  out pending_events bigint)
returns setof record
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select * from pgq.get_consumer_info(null::text, null::text);
$$;
