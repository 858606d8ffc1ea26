-- pgq.get_queue_info() / pgq.get_queue_info(i_queue_name): settings and state of queues.
--
-- Parameters: i_queue_name: one queue; NULL (or the no-argument form) = every queue.
-- Result (ordered by queue_name): queue_name, queue_ntables, queue_cur_table,
--   queue_rotation_period, queue_switch_time, queue_external_ticker, queue_ticker_paused,
--   queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_idle_period,
--   ticker_lag (now - last tick time), ev_per_sec (event-sequence growth per second between the
--   last tick and the tick up to 20 ticks before it; NULL without a time difference),
--   ev_new (events since the last tick, by the event sequence), last_tick_id.
-- Writes: nothing.
create or replace function pgq.get_queue_info(
  in i_queue_name text,
  out queue_name text,
  out queue_ntables integer,
  out queue_cur_table integer,
  out queue_rotation_period interval,
  out queue_switch_time timestamptz,
  out queue_external_ticker boolean,
  out queue_ticker_paused boolean,
  out queue_ticker_max_count integer,
  out queue_ticker_max_lag interval,
  out queue_ticker_idle_period interval,
  out ticker_lag interval,
  out ev_per_sec float8,
  out ev_new bigint,
  out last_tick_id bigint)
returns setof record
language sql
volatile
as $$
  select q.queue_name, q.queue_ntables, q.queue_cur_table, q.queue_rotation_period,
         q.queue_switch_time, q.queue_external_ticker, q.queue_ticker_paused,
         q.queue_ticker_max_count, q.queue_ticker_max_lag, q.queue_ticker_idle_period,
         pg_catalog.now() - lt.tick_time,
         case when lt.tick_time > ot.tick_time
              then (lt.tick_event_seq - ot.tick_event_seq)::float8
                   / extract(epoch from lt.tick_time - ot.tick_time)::float8
         end,
         pgq.seq_getval(q.queue_event_seq) - lt.tick_event_seq,
         lt.tick_id
    from pgq.queue q
    left join lateral (
      select t.tick_id, t.tick_time, t.tick_event_seq
        from pgq.tick t
       where t.tick_queue = q.queue_id
       order by t.tick_queue desc, t.tick_id desc
       limit 1) lt on true
    left join lateral (
      select w.tick_time, w.tick_event_seq
        from (select t.tick_id, t.tick_time, t.tick_event_seq
                from pgq.tick t
               where t.tick_queue = q.queue_id
               order by t.tick_queue desc, t.tick_id desc
               limit 21) w
       order by w.tick_id
       limit 1) ot on true
   where $1 is null or q.queue_name = $1
   order by q.queue_name;
$$;

create or replace function pgq.get_queue_info(
  out queue_name text,
  out queue_ntables integer,
  out queue_cur_table integer,
  out queue_rotation_period interval,
  out queue_switch_time timestamptz,
  out queue_external_ticker boolean,
  out queue_ticker_paused boolean,
  out queue_ticker_max_count integer,
  out queue_ticker_max_lag interval,
  out queue_ticker_idle_period interval,
  out ticker_lag interval,
  out ev_per_sec float8,
  out ev_new bigint,
  out last_tick_id bigint)
returns setof record
language sql
volatile
as $$
  select * from pgq.get_queue_info(null::text);
$$;
