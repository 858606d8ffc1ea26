-- pgq.find_tick_helper(i_queue_id, i_prev_tick_id, i_prev_tick_time, i_prev_tick_seq,
-- i_min_count, i_min_interval): choose the end tick of a batch that should be "big enough".
--
-- Parameters:
--   i_queue_id                                       the queue
--   i_prev_tick_id, i_prev_tick_time, i_prev_tick_seq  the batch's start tick
--   i_min_count      wanted event-sequence distance from the start tick (NULL = no such rule)
--   i_min_interval   wanted time distance from the start tick (NULL = no such rule)
-- Result (one row): next_tick_id, next_tick_time, next_tick_seq; all NULL when no tick after the
--   start satisfies a rule yet. The newest tick is taken when it satisfies a rule and is not
--   more than twice the wanted size away; otherwise the first tick that satisfies a rule. With
--   both rules NULL, simply the next tick.
-- Writes: nothing.
create or replace function pgq.find_tick_helper(
  in i_queue_id int4,
  in i_prev_tick_id int8,
  in i_prev_tick_time timestamptz,
  in i_prev_tick_seq int8,
  in i_min_count int8,
  in i_min_interval interval,
  out next_tick_id int8,
  out next_tick_time timestamptz,
  out next_tick_seq int8)
language plpgsql
stable
as $$
declare
  v_id int8;
  v_time timestamptz;
  v_seq int8;
begin
  if i_min_count is null and i_min_interval is null then
    select t.tick_id, t.tick_time, t.tick_event_seq
      into next_tick_id, next_tick_time, next_tick_seq
      from pgq.tick t
     where t.tick_queue = i_queue_id and t.tick_id > i_prev_tick_id
     order by t.tick_queue, t.tick_id
     limit 1;
    return;
  end if;

  select t.tick_id, t.tick_time, t.tick_event_seq into v_id, v_time, v_seq
    from pgq.tick t
   where t.tick_queue = i_queue_id and t.tick_id > i_prev_tick_id
   order by t.tick_queue desc, t.tick_id desc
   limit 1;
  if not found then
    return;
  end if;

  -- Sequence and time only grow with the tick id: if the newest tick is not far enough,
  -- none is.
  if not (coalesce(v_seq - i_prev_tick_seq >= i_min_count, false)
          or coalesce(v_time - i_prev_tick_time >= i_min_interval, false)) then
    return;
  end if;

  if not (coalesce(v_seq - i_prev_tick_seq > 2 * i_min_count, false)
          or coalesce(v_time - i_prev_tick_time > 2 * i_min_interval, false)) then
    next_tick_id := v_id;
    next_tick_time := v_time;
    next_tick_seq := v_seq;
    return;
  end if;

  -- The newest tick is far away (consumer lagging): take the first one that is enough.
  select t.tick_id, t.tick_time, t.tick_event_seq
    into next_tick_id, next_tick_time, next_tick_seq
    from pgq.tick t
   where t.tick_queue = i_queue_id
     and t.tick_id > i_prev_tick_id
     and (t.tick_event_seq - i_prev_tick_seq >= i_min_count
          or t.tick_time - i_prev_tick_time >= i_min_interval)
   order by t.tick_queue, t.tick_id
   limit 1;
end;
$$;
