-- pgq.ticker_pass: one ticking pass over a database for pgqd's low-latency policy (ours;
-- upstream has no such function, and pgqd falls back to pgq.ticker(queue) where it is
-- missing).
--
-- pgq.ticker_pass(i_min_interval interval, i_notified text[], i_sleep interval,
--   out queue_name text, out tick_id bigint, out new_events bigint, out late_events boolean,
--   out waiting boolean) → setof record
--
-- For every queue that is neither paused nor externally ticked, in name order: first
-- pgq.ticker(queue) decides as usual (ticker_max_count, ticker_max_lag, idle ticks); when it
-- makes no tick but the queue has events not yet ticked and the last tick is at least
-- i_min_interval old, a tick is made anyway. So a busy queue is ticked at most once per
-- i_min_interval and an idle one exactly as pgq.ticker() would (an idle queue whose last tick
-- is too young by pgq.ticker's idle rule is not even asked).
--
-- Events not yet ticked, counted two ways:
--  * new events: the event sequence position against the last tick's. A sequence reads 1
--    both before and after its first nextval, so while both read 1 the pass looks at the
--    event table instead (event id 1 not yet visible in the last tick's snapshot). A
--    never-used event sequence is moved to 2, and the last tick's event position with it, so
--    an idle queue that never had an event does not send the pass to its table again on every
--    pass (ids 1 and 2 stay unused; ids may have gaps anyway).
--  * late events: an event whose id the last tick already counted, but whose transaction
--    committed after that tick's snapshot (it was in flight), belongs to no batch until the
--    next tick, and the counter says nothing is new. The pass looks for such events (by the
--    ev_txid index) when the last tick's window had events, and for the queues in
--    i_notified (the producers' NOTIFY pgq_wakeup came after their commit), and ticks for
--    them as for new events. So the last event of a burst is not left waiting for an idle
--    tick. While a transaction of this database that the last tick did not see is open
--    (within a second of that tick), the queue is reported waiting, so pgqd looks again soon.
--
-- The wake-up flag (pgq.ticker_wakeup, read by producers in pgq._ticker_wakeup): with
-- i_sleep given, a pass that leaves no queue waiting sets it to now() + i_sleep (written
-- only when less than half of that is left), then reads the event sequences again: an id
-- taken before the flag was visible is reported as a waiting queue, since its producer may
-- have looked at the flag too early to send a NOTIFY. A pass that leaves a queue waiting
-- clears the flag: pgqd comes back after i_min_interval anyway, and producers need not wake
-- it. NULL i_sleep leaves the flag alone.
--
-- With i_sleep given, the last row has queue_name NULL and next_pass: how long the database
-- can be left alone (woken by producers meanwhile): until the first queue is due for an idle
-- tick by the rule above, at most i_sleep / 2; zero when pgq.ticker declined a tick the rule
-- allowed, or a queue's last window had events (its late events are looked for on every
-- pass until its next tick): the caller then comes back after its own ticker_period.
--
-- Parameters: i_min_interval - shortest gap between two ticks of a queue with events;
--   i_notified - queue names pgqd got a NOTIFY pgq_wakeup for since its previous pass;
--   i_sleep - how long pgqd may sleep now, or NULL (no wake-ups wanted).
-- Result: one row per queue that got a tick or still has events to tick:
--   queue_name; tick_id (the new tick, NULL when none was made); new_events (events since the
--   previous tick, by the event sequence; 0 for an idle tick); late_events (the tick, or the
--   one still to come, is for late events: its batch may hold events although new_events is
--   0); waiting (no tick yet for events that are there: the last tick is too young);
--   next_pass (NULL but on the last row, above).
-- Callers serialize ticking of one database themselves (pgqd holds a session advisory lock
-- on its connection): a lock taken here would come after the statement's snapshot.
-- Tables written: pgq.tick (new ticks; once per queue, the event position of the last tick,
-- above); the queues' tick sequences; a never-used event sequence (above); the sequence
-- pgq.ticker_wakeup.
--
-- pgq.ticker_pass(i_min_interval interval, out queue_name text, out tick_id bigint,
--   out new_events bigint) → setof record
--   The first form: the same pass without NOTIFY names and without the flag, returning the
--   queues that got a tick or have new events.
create or replace function pgq.ticker_pass(
  i_min_interval interval,
  i_notified text[],
  i_sleep interval,
  out queue_name text,
  out tick_id bigint,
  out new_events bigint,
  out late_events boolean,
  out waiting boolean,
  out next_pass interval)
returns setof record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue record;
  v_idle boolean := true;
  v_seen text[] := '{}';
  v_seen_seq bigint[] := '{}';
  v_flag bigint;
  v_until bigint;
  v_due interval;
  v_next interval := i_sleep / 2;
begin
  for v_queue in
    select q.queue_name as name, q.queue_id as id, q.queue_tick_seq as tick_seq,
           q.queue_event_seq as event_seq_name, q.queue_data_pfx as data_pfx,
           pgq.seq_getval(q.queue_event_seq) as event_seq,
           t.tick_event_seq as last_event_seq, t.tick_time as last_time,
           t.tick_snapshot as last_snapshot,
           now() - t.tick_time as lag, t.tick_time - p.tick_time as prev_gap,
           p.tick_event_seq as prev_event_seq,
           q.queue_ticker_max_lag as max_lag, q.queue_ticker_idle_period as idle_period
      from pgq.queue q
      left join lateral (
        select tk.tick_id, tk.tick_event_seq, tk.tick_time, tk.tick_snapshot
          from pgq.tick tk
         where tk.tick_queue = q.queue_id
         order by tk.tick_queue desc, tk.tick_id desc
         limit 1) t on true
      left join lateral (
        select tk.tick_time, tk.tick_event_seq
          from pgq.tick tk
         where tk.tick_queue = q.queue_id and tk.tick_id < t.tick_id
         order by tk.tick_queue desc, tk.tick_id desc
         limit 1) p on true
     where not q.queue_external_ticker
       and not q.queue_ticker_paused
     order by q.queue_name
  loop
    queue_name := v_queue.name;
    tick_id := null;
    late_events := false;
    waiting := false;
    next_pass := null;
    v_seen := v_seen || v_queue.name;
    v_seen_seq := v_seen_seq || v_queue.event_seq;
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
          v_seen_seq[cardinality(v_seen_seq)] := 2;
        end if;
      else
        execute pg_catalog.format(
          'select count(*) from %s where ev_id = 1'
          ' and not pg_catalog.txid_visible_in_snapshot(ev_txid, $1)',
          pgq.quote_fqname(v_queue.data_pfx))
          into new_events using v_queue.last_snapshot;
      end if;
    end if;
    if new_events = 0 and v_queue.last_time is not null
       and (v_queue.name = any (i_notified)
            or v_queue.last_event_seq > coalesce(v_queue.prev_event_seq, v_queue.last_event_seq)) then
      -- Events committed since the last tick's snapshot, by the ev_txid index: those at or
      -- above its xmin, not visible to it, visible now.
      execute pg_catalog.format(
        'select exists (select 1 from %s where ev_txid >= pg_catalog.txid_snapshot_xmin($1)'
        ' and not pg_catalog.txid_visible_in_snapshot(ev_txid, $1)'
        ' and pg_catalog.txid_visible_in_snapshot(ev_txid, pg_catalog.txid_current_snapshot()))',
        pgq.quote_fqname(v_queue.data_pfx))
        into late_events using v_queue.last_snapshot;
      -- Still in flight, maybe: look again next time.
      v_next := interval '0';
      if not late_events and v_queue.lag < interval '1 second'
         and pgq._open_unseen_transactions(v_queue.last_snapshot) then
        -- A transaction of this database that the last tick did not see is open, and may hold
        -- an event that tick counted; its producer saw no flag (pgqd was busy) and will not
        -- send a NOTIFY. Look again after i_min_interval for a second, then at the caller's
        -- ticker_period.
        waiting := true;
        v_idle := false;
        return next;
        continue;
      end if;
    end if;
    -- An idle queue whose last tick is too young for an idle tick (pgq.ticker's own rule):
    -- skip the call, which would read everything again to say no. Most passes over an idle
    -- database end here for every queue.
    if new_events = 0 and not late_events and v_queue.last_time is not null
       and (v_queue.lag < v_queue.max_lag / 2
            or (v_queue.prev_gap is not null and v_queue.lag < v_queue.prev_gap * 2
                and v_queue.lag < v_queue.idle_period)) then
      -- When this rule lets the next idle tick through.
      v_due := greatest(v_queue.max_lag / 2,
                        least(coalesce(v_queue.prev_gap * 2, interval '0'), v_queue.idle_period))
               - v_queue.lag;
      v_next := least(v_next, greatest(v_due, interval '0'));
      continue;
    end if;
    tick_id := pgq.ticker(v_queue.name);
    if tick_id is null and new_events = 0 and not late_events then
      -- pgq.ticker's own idle rule said no where ours said maybe: ask again next time.
      v_next := interval '0';
    elsif tick_id is not null then
      -- The rule above for the tick just made: the gap before it is the lag.
      v_next := least(v_next, greatest(v_queue.max_lag / 2,
                                       least(coalesce(v_queue.lag * 2, interval '0'),
                                             v_queue.idle_period)));
    end if;
    if tick_id is null and (new_events > 0 or late_events) then
      if now() - v_queue.last_time >= i_min_interval then
        tick_id := nextval(pgq.quote_fqname(v_queue.tick_seq)::regclass);
        insert into pgq.tick (tick_queue, tick_id, tick_event_seq)
        values (v_queue.id, tick_id, v_queue.event_seq);
      else
        waiting := true;
      end if;
    end if;
    if waiting or (tick_id is not null and (new_events > 0 or late_events)) then
      v_idle := false;
    end if;
    if tick_id is not null or new_events > 0 or late_events then
      return next;
    end if;
  end loop;

  if i_sleep is null then
    return;
  end if;
  queue_name := null;
  tick_id := null;
  new_events := 0;
  late_events := false;
  waiting := false;
  v_flag := pg_catalog.pg_sequence_last_value('pgq.ticker_wakeup'::regclass);
  if not v_idle then
    if v_flag is not null then
      perform pg_catalog.setval('pgq.ticker_wakeup'::regclass, 1, false);
    end if;
    next_pass := interval '0';
    return next;
    return;
  end if;
  v_until := extract(epoch from now() + i_sleep)::bigint;
  if v_flag is null or v_flag < extract(epoch from now() + i_sleep / 2)::bigint then
    perform pg_catalog.setval('pgq.ticker_wakeup'::regclass, v_until, true);
  end if;
  -- Ids taken while the flag was not yet set: their producers may not have sent a NOTIFY.
  for i in 1 .. coalesce(cardinality(v_seen), 0) loop
    if pgq.seq_getval((select q.queue_event_seq from pgq.queue q
                        where q.queue_name = v_seen[i])) > v_seen_seq[i] then
      queue_name := v_seen[i];
      tick_id := null;
      new_events := 0;
      late_events := false;
      waiting := true;
      next_pass := null;
      return next;
      v_next := interval '0';
    end if;
  end loop;
  queue_name := null;
  tick_id := null;
  new_events := 0;
  late_events := false;
  waiting := false;
  next_pass := v_next;
  return next;
  return;
end;
$$;

create or replace function pgq.ticker_pass(
  i_min_interval interval,
  out queue_name text,
  out tick_id bigint,
  out new_events bigint)
returns setof record
language sql
security definer
set search_path = pg_catalog, pg_temp
as $$
  select p.queue_name, p.tick_id, p.new_events
    from pgq.ticker_pass(i_min_interval, '{}'::text[], null::interval) p
   where p.tick_id is not null or p.new_events > 0
$$;
