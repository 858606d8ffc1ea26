-- pgq_node.register_subscriber(i_queue_name, i_remote_node_name, i_remote_worker_name,
--   i_custom_tick_id) → (ret_code int4, ret_note text, global_watermark bigint)
--
-- Called on a provider (root or branch) for a node that is to read its queue: registers the
-- subscriber's two pgq consumers here, .<node>.watermark at the global watermark (so events
-- its subtree needs are kept) and its worker at i_custom_tick_id (or the global watermark),
-- and records the subscriber. A node already subscribed fails on the primary key (as
-- upstream; unregister it first), and nothing is changed.
--
-- Parameters:
--   i_queue_name          cascaded queue
--   i_remote_node_name    subscriber node (a registered location)
--   i_remote_worker_name  the subscriber's worker, its pgq consumer name here
--   i_custom_tick_id      where the worker starts; NULL = the global watermark
-- Result: 200 'Subscriber registered: <node>' with the global watermark (where a new node
--   starts); 404 'Unknown queue: <queue>'; 401 'Cannot subscribe to <type> node' (a leaf).
-- Tables written: pgq_node.subscriber_info; pgq.consumer, pgq.subscription.
create or replace function pgq_node.register_subscriber(
  in i_queue_name text,
  in i_remote_node_name text,
  in i_remote_worker_name text,
  in i_custom_tick_id int8,
  out ret_code int4,
  out ret_note text,
  out global_watermark bigint)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_node_type text;
  v_watermark_name text := '.' || i_remote_node_name || '.watermark';
begin
  select n.node_type into v_node_type
    from pgq_node.node_info n
   where n.queue_name = i_queue_name
     for share;
  if not found then
    ret_code := 404;
    ret_note := 'Unknown queue: ' || i_queue_name;
    return;
  end if;
  if v_node_type not in ('root', 'branch') then
    ret_code := 401;
    ret_note := 'Cannot subscribe to ' || v_node_type || ' node';
    return;
  end if;

  global_watermark := pgq_node._consumer_position(i_queue_name, '.global_watermark');

  perform pgq.register_consumer_at(i_queue_name, v_watermark_name, global_watermark);
  perform pgq.register_consumer_at(i_queue_name, i_remote_worker_name,
                                   coalesce(i_custom_tick_id, global_watermark));

  insert into pgq_node.subscriber_info (queue_name, subscriber_node, worker_name, watermark_name)
  values (i_queue_name, i_remote_node_name, i_remote_worker_name, v_watermark_name);

  ret_code := 200;
  ret_note := 'Subscriber registered: ' || i_remote_node_name;
  return;
end;
$$;
