-- pgq.ticker_pass(i_min_interval interval): one ticking pass over a database for pgqd's
-- low-latency policy (ours; upstream has no such function, and pgqd falls back to
-- pgq.ticker(queue) where it is missing).
--
-- For every queue that is neither paused nor externally ticked, in name order: first
-- pgq.ticker(queue) decides as usual (ticker_max_count, ticker_max_lag, idle ticks); when it
-- makes no tick but the queue has new events (its event sequence moved past the last tick's)
-- and the last tick is at least i_min_interval old, a tick is made anyway. So a busy queue is
-- ticked at most once per i_min_interval and an idle one exactly as pgq.ticker() would (an
-- idle queue whose last tick is too young by pgq.ticker's idle rule is not even asked).
--
-- Counting new events: the event sequence position against the last tick's. A sequence
-- reads 1 both before and after its first nextval, so while both read 1 the pass looks at
-- the event table instead (event id 1 not yet visible in the last tick's snapshot). A
-- never-used event sequence is moved to 2, and the last tick's event position with it, so
-- an idle queue that never had an event does not send the pass to its table again on every
-- pass (ids 1 and 2 stay unused; ids may have gaps anyway).
--
-- Parameters: i_min_interval - shortest gap between two ticks of a queue with new events.
-- Result: one row per queue that got a tick or has new events:
--   queue_name, tick_id (the new tick, NULL when none was made), new_events (events since
--   the previous tick, by the event sequence; 0 for an idle tick).
-- Callers serialize ticking of one database themselves (pgqd holds a session advisory lock
-- on its connection): a lock taken here would come after the statement's snapshot.
-- Tables written: pgq.tick (new ticks; once per queue, the event position of the last tick,
-- above); the queues' tick sequences; a never-used event sequence (above).
create or replace function pgq.ticker_pass(
  i_min_interval interval,
  out queue_name text,
  out tick_id bigint,
  out new_events bigint)
returns setof record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue record;
begin
  for v_queue in
    select q.queue_name as name, q.queue_id as id, q.queue_tick_seq as tick_seq,
           q.queue_event_seq as event_seq_name, q.queue_data_pfx as data_pfx,
           pgq.seq_getval(q.queue_event_seq) as event_seq,
           t.tick_event_seq as last_event_seq, t.tick_time as last_time,
           t.tick_snapshot as last_snapshot,
           now() - t.tick_time as lag, t.tick_time - p.tick_time as prev_gap,
           q.queue_ticker_max_lag as max_lag, q.queue_ticker_idle_period as idle_period
      from pgq.queue q
      left join lateral (
        select tk.tick_id, tk.tick_event_seq, tk.tick_time, tk.tick_snapshot
          from pgq.tick tk
         where tk.tick_queue = q.queue_id
         order by tk.tick_queue desc, tk.tick_id desc
         limit 1) t on true
      left join lateral (
        select tk.tick_time
          from pgq.tick tk
         where tk.tick_queue = q.queue_id and tk.tick_id < t.tick_id
         order by tk.tick_queue desc, tk.tick_id desc
         limit 1) p on true
     where not q.queue_external_ticker
       and not q.queue_ticker_paused
     order by q.queue_name
  loop
    queue_name := v_queue.name;
    new_events := greatest(coalesce(v_queue.event_seq - v_queue.last_event_seq, 0), 0);
    if v_queue.event_seq = 1 and v_queue.last_event_seq = 1 then
      if pg_catalog.pg_sequence_last_value(
           pgq.quote_fqname(v_queue.event_seq_name)::regclass) is null then
        -- Hand out ids 1 and 2 to nobody and let the last tick say so: from then on the
        -- sequence and the tick tell new events apart without looking at the table. Only
        -- when no producer took an id in between (ours are 1 and 2); otherwise the sequence
        -- has moved and says so itself.
        if pg_catalog.nextval(pgq.quote_fqname(v_queue.event_seq_name)::regclass) = 1
           and pg_catalog.nextval(pgq.quote_fqname(v_queue.event_seq_name)::regclass) = 2 then
          update pgq.tick tk set tick_event_seq = 2
           where tk.tick_queue = v_queue.id and tk.tick_event_seq = 1
             and tk.tick_id = (select max(l.tick_id) from pgq.tick l where l.tick_queue = v_queue.id);
        end if;
      else
        execute pg_catalog.format(
          'select count(*) from %s where ev_id = 1'
          ' and not pg_catalog.txid_visible_in_snapshot(ev_txid, $1)',
          pgq.quote_fqname(v_queue.data_pfx))
          into new_events using v_queue.last_snapshot;
      end if;
    end if;
    -- An idle queue whose last tick is too young for an idle tick (pgq.ticker's own rule):
    -- skip the call, which would read everything again to say no. Most passes over an idle
    -- database end here for every queue.
    if new_events = 0 and v_queue.last_time is not null
       and (v_queue.lag < v_queue.max_lag / 2
            or (v_queue.prev_gap is not null and v_queue.lag < v_queue.prev_gap * 2
                and v_queue.lag < v_queue.idle_period)) then
      continue;
    end if;
    tick_id := pgq.ticker(v_queue.name);
    if tick_id is null and new_events > 0 and now() - v_queue.last_time >= i_min_interval then
      tick_id := nextval(pgq.quote_fqname(v_queue.tick_seq)::regclass);
      insert into pgq.tick (tick_queue, tick_id, tick_event_seq)
      values (v_queue.id, tick_id, v_queue.event_seq);
    end if;
    if tick_id is not null or new_events > 0 then
      return next;
    end if;
  end loop;
  return;
end;
$$;
