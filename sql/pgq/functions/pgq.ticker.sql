-- pgq.ticker: make ticks (snapshots that bound batches).
--
-- pgq.ticker(i_queue_name text, i_tick_id bigint, i_orig_timestamp timestamptz,
--            i_event_seq bigint) → bigint
--   External tick, for queues whose ticks come from elsewhere (queue_external_ticker, e.g.
--   a cascaded branch copying its provider's ticks): insert a tick with the given id, time
--   and event-sequence value, and move the queue's tick and event sequences forward to them
--   (never backwards). Result: i_tick_id. Error when the queue does not exist, is not
--   external or is paused.
--
-- pgq.ticker(i_queue_name text) → bigint
--   Decide whether the queue needs a tick now and make it. With new events (the event
--   sequence moved since the last tick): tick when at least ticker_max_count of them exist
--   or the last tick is older than ticker_max_lag. Without new events: tick unless the last
--   tick is younger than ticker_max_lag / 2, or younger than both twice the gap between the
--   last two ticks and ticker_idle_period (so idle ticks get sparser up to the idle period).
--   No tick yet, or only one: tick. Result: the new tick id, or NULL when no tick was due.
--
-- pgq.ticker() → bigint
--   pgq.ticker(name) for every queue that is neither paused nor externally ticked, in name
--   order. Result: the number of ticks made.
--
-- Callers serialize ticking of one queue themselves (take a lock in an earlier statement):
-- a lock taken here would come after the statement's snapshot.
-- Tables written: pgq.tick; the queue's tick (and, external form, event) sequence.

create or replace function pgq.ticker(
  i_queue_name text, i_tick_id bigint, i_orig_timestamp timestamptz, i_event_seq bigint)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue_id integer;
  v_event_seq text;
  v_tick_seq text;
begin
  select queue_id, queue_event_seq, queue_tick_seq
    into v_queue_id, v_event_seq, v_tick_seq
    from pgq.queue
   where queue_name = i_queue_name
     and queue_external_ticker
     and not queue_ticker_paused;
  if not found then
    raise exception 'queue not found or ticker disabled: %', i_queue_name
      using hint = 'external ticks need a queue with external_ticker on and the ticker not paused';
  end if;

  perform pgq.seq_setval(v_tick_seq, i_tick_id);
  perform pgq.seq_setval(v_event_seq, i_event_seq);

  insert into pgq.tick (tick_queue, tick_id, tick_time, tick_event_seq)
  values (v_queue_id, i_tick_id, i_orig_timestamp, i_event_seq);

  return i_tick_id;
end;
$$;

create or replace function pgq.ticker(i_queue_name text)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue record;
  v_last record;
  v_prev_gap interval;
  v_cur_txid bigint;
  v_tick_id bigint;
begin
  select queue_id, queue_tick_seq, queue_external_ticker, queue_ticker_paused,
         queue_ticker_max_count, queue_ticker_max_lag, queue_ticker_idle_period,
         pgq.seq_getval(queue_event_seq) as event_seq
    into v_queue
    from pgq.queue
   where queue_name = i_queue_name;
  if not found then
    raise exception 'no such queue'
      using detail = format('queue: %s', i_queue_name);
  end if;
  if v_queue.queue_external_ticker then
    raise exception 'This queue has external tick source.'
      using detail = format('queue: %s', i_queue_name),
            hint = 'its ticks come from pgq.ticker(queue, tick_id, time, event_seq)';
  end if;
  if v_queue.queue_ticker_paused then
    raise exception 'Ticker has been paused for this queue'
      using detail = format('queue: %s', i_queue_name),
            hint = 'resume it with pgq.set_queue_config(queue, ''ticker_paused'', ''false'')';
  end if;

  select tick_id, tick_time, tick_event_seq,
         now() - tick_time as lag,
         v_queue.event_seq - tick_event_seq as new_events,
         txid_snapshot_xmin(tick_snapshot) as snap_xmin,
         txid_snapshot_xmax(tick_snapshot) as snap_xmax
    into v_last
    from pgq.tick
   where tick_queue = v_queue.queue_id
   order by tick_queue desc, tick_id desc
   limit 1;

  if found then
    v_cur_txid := txid_current();
    if v_last.snap_xmin > v_cur_txid then
      raise exception 'Invalid PgQ state: old xmin=%, old xmax=%, cur txid=%',
        v_last.snap_xmin, v_last.snap_xmax, v_cur_txid
        using detail = format('queue: %s, last tick: %s', i_queue_name, v_last.tick_id);
    end if;
    if v_last.new_events < 0 then
      raise warning 'Negative new_events?  old=% cur=%', v_last.tick_event_seq, v_queue.event_seq
        using detail = format('queue: %s', i_queue_name);
    end if;
    if v_last.snap_xmax > v_cur_txid then
      raise warning 'Dubious PgQ state: old xmax=%, cur txid=%', v_last.snap_xmax, v_cur_txid
        using detail = format('queue: %s', i_queue_name);
    end if;

    if v_last.new_events > 0 then
      -- New events: wait for enough of them or for the lag limit.
      if v_last.new_events < v_queue.queue_ticker_max_count
         and v_last.lag < v_queue.queue_ticker_max_lag then
        return null;
      end if;
    else
      -- Idle: space ticks out, doubling the gap up to the idle period.
      select v_last.tick_time - tick_time
        into v_prev_gap
        from pgq.tick
       where tick_queue = v_queue.queue_id
         and tick_id < v_last.tick_id
       order by tick_queue desc, tick_id desc
       limit 1;
      if found then
        if v_last.lag < v_queue.queue_ticker_max_lag / 2
           or (v_last.lag < v_prev_gap * 2
               and v_last.lag < v_queue.queue_ticker_idle_period) then
          return null;
        end if;
      end if;
    end if;
  end if;

  v_tick_id := nextval(pgq.quote_fqname(v_queue.queue_tick_seq)::regclass);
  insert into pgq.tick (tick_queue, tick_id, tick_event_seq)
  values (v_queue.queue_id, v_tick_id, v_queue.event_seq);
  return v_tick_id;
end;
$$;

create or replace function pgq.ticker()
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_name text;
  v_ticks bigint := 0;
begin
  for v_name in
    select queue_name
      from pgq.queue
     where not queue_external_ticker
       and not queue_ticker_paused
     order by queue_name
  loop
    if pgq.ticker(v_name) is not null then
      v_ticks := v_ticks + 1;
    end if;
  end loop;
  return v_ticks;
end;
$$;
