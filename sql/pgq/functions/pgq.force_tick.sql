-- pgq.force_tick(i_queue_name text) → bigint
--
-- Make the next pgq.ticker() run tick the queue: move its event sequence forward by
-- 2 * ticker_max_count + 1000 past its next value, so the ticker sees more than
-- ticker_max_count new events. Paused and externally ticked queues are left alone. Call it
-- in a loop (with a ticker running) until the returned tick id changes.
--
-- Parameters: i_queue_name - queue name.
-- Result: the queue's last tick id (NULL for an unknown queue or one without ticks).
-- Tables written: the queue's event sequence.
create or replace function pgq.force_tick(i_queue_name text)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_event_seq text;
  v_max_count integer;
  v_tick_id bigint;
begin
  select queue_event_seq, queue_ticker_max_count
    into v_event_seq, v_max_count
    from pgq.queue
   where queue_name = i_queue_name
     and not queue_external_ticker
     and not queue_ticker_paused;
  if found then
    perform setval(pgq.quote_fqname(v_event_seq)::regclass,
                   nextval(pgq.quote_fqname(v_event_seq)::regclass)
                   + v_max_count::bigint * 2 + 1000);
    -- A pgqd sleeping on its wake-up flag would not look before the queue's next idle tick.
    if pg_sequence_last_value('pgq.ticker_wakeup'::regclass) is not null then
      perform pgq._ticker_wakeup(i_queue_name);
    end if;
  end if;

  select t.tick_id
    into v_tick_id
    from pgq.tick t
    join pgq.queue q on q.queue_id = t.tick_queue
   where q.queue_name = i_queue_name
   order by t.tick_queue desc, t.tick_id desc
   limit 1;
  return v_tick_id;
end;
$$;
