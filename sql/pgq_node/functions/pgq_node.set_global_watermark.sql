-- pgq_node.set_global_watermark(i_queue_name, i_watermark) → (ret_code int4, ret_note text)
--
-- Move the node's .global_watermark, the position below which no node of the cascade needs
-- the queue any more (events and ticks under it may be rotated away).
--   root:   NULL = the root's local watermark, which covers the whole tree; the new value is
--           sent down as event pgq.global-watermark (ev_data = tick, extra1 = queue) and
--           becomes the root worker's position.
--   branch: applies the value such an event carried; a tick this branch has not copied yet
--           is skipped (the next event moves it).
--   leaf:   nothing to move.
--
-- Parameters:
--   i_queue_name  cascaded queue
--   i_watermark   tick id; NULL only on the root
-- Result: 200 'Global watermark set to <tick>'; 200 'Skipping global watermark update to
--   <tick>'; 100 'Ignoring global watermark in leaf'; 500 'bad usage: wm=null on branch
--   node'; 404 'Queue<queue> not found' (upstream's text, no space).
-- Tables written: pgq.subscription, pgq_node.local_state; the root's queue (the event).
create or replace function pgq_node.set_global_watermark(
  in i_queue_name text,
  in i_watermark bigint,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_node record;
  v_watermark bigint := i_watermark;
begin
  -- One mover per queue at a time: two callers (worker and pgqd) must not interleave the
  -- move, the event and the worker's position.
  select n.node_type, n.worker_name into v_node
    from pgq_node.node_info n
   where n.queue_name = i_queue_name
     for update;
  if not found then
    ret_code := 404;
    ret_note := 'Queue' || i_queue_name || ' not found';
    return;
  end if;

  if v_node.node_type = 'leaf' then
    ret_code := 100;
    ret_note := 'Ignoring global watermark in leaf';
    return;
  end if;

  if v_node.node_type = 'root' then
    if v_watermark is null then
      v_watermark := pgq_node._local_watermark(i_queue_name);
    end if;
  else
    if v_watermark is null then
      ret_code := 500;
      ret_note := 'bad usage: wm=null on branch node';
      return;
    end if;
    perform 1
       from pgq.tick t
       join pgq.queue q on q.queue_id = t.tick_queue
      where q.queue_name = i_queue_name and t.tick_id = v_watermark;
    if not found then
      ret_code := 200;
      ret_note := 'Skipping global watermark update to ' || v_watermark;
      return;
    end if;
  end if;

  perform pgq.register_consumer_at(i_queue_name, '.global_watermark', v_watermark);

  if v_node.node_type = 'root' then
    perform pgq.insert_event(i_queue_name, 'pgq.global-watermark', v_watermark::text,
                             i_queue_name, null, null, null);
    update pgq_node.local_state
       set last_tick_id = v_watermark
     where queue_name = i_queue_name and consumer_name = v_node.worker_name;
  end if;

  ret_code := 200;
  ret_note := 'Global watermark set to ' || v_watermark;
  return;
end;
$$;
