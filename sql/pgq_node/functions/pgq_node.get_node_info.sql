-- pgq_node.get_node_info(i_queue_name) → (ret_code int4, ret_note text, node_type text,
--   node_name text, global_watermark bigint, local_watermark bigint, provider_node text,
--   provider_location text, combined_queue text, combined_type text, worker_name text,
--   worker_paused bool, worker_uptodate bool, worker_last_tick bigint, node_attrs text,
--   target_for text[])
--
-- Everything admin tools show about the local node of a cascade.
--   root/branch: global_watermark = position of .global_watermark; local_watermark = lowest
--     position of the other local consumers (or the latest tick); target_for = the queues,
--     sorted, that are merged into this one (NULL if none).
--   leaf: local_watermark = the worker's last tick; global_watermark NULL.
--   root: worker_last_tick = the queue's latest tick (the root produces, it does not copy).
--   combined_type = node type of the combined queue on this database.
--
-- Parameters: i_queue_name - cascaded queue.
-- Result: 100 'Ok'; 404 'Unknown queue: <queue>' with the other columns NULL.
-- Tables written: none.
create or replace function pgq_node.get_node_info(
  in i_queue_name text,
  out ret_code int4,
  out ret_note text,
  out node_type text,
  out node_name text,
  out global_watermark bigint,
  out local_watermark bigint,
  out provider_node text,
  out provider_location text,
  out combined_queue text,
  out combined_type text,
  out worker_name text,
  out worker_paused bool,
  out worker_uptodate bool,
  out worker_last_tick bigint,
  out node_attrs text,
  out target_for text[])
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_variable
begin
  select n.node_type, n.node_name, n.worker_name, n.combined_queue, n.node_attrs
    into node_type, node_name, worker_name, combined_queue, node_attrs
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    ret_code := 404;
    ret_note := 'Unknown queue: ' || i_queue_name;
    return;
  end if;

  select s.provider_node, l.node_location, s.paused, s.uptodate, s.last_tick_id
    into provider_node, provider_location, worker_paused, worker_uptodate, worker_last_tick
    from pgq_node.local_state s
    left join pgq_node.node_location l
      on l.queue_name = s.queue_name and l.node_name = s.provider_node
   where s.queue_name = i_queue_name and s.consumer_name = worker_name;

  if node_type in ('root', 'branch') then
    global_watermark := pgq_node._consumer_position(i_queue_name, '.global_watermark');
    local_watermark := pgq_node._local_watermark(i_queue_name);
    select array_agg(t.queue_name order by t.queue_name) into target_for
      from pgq_node.node_info t
     where t.combined_queue = i_queue_name;
    if node_type = 'root' then
      worker_last_tick := pgq_node._queue_top(i_queue_name);
    end if;
  else
    local_watermark := worker_last_tick;
  end if;

  if combined_queue is not null then
    select c.node_type into combined_type
      from pgq_node.node_info c
     where c.queue_name = combined_queue;
  end if;

  ret_code := 100;
  ret_note := 'Ok';
  return;
end;
$$;
