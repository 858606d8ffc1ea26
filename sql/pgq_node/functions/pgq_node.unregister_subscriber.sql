-- pgq_node.unregister_subscriber(i_queue_name, i_remote_node_name)
--   → (ret_code int4, ret_note text)
--
-- Called on a provider when a node stops reading its queue: removes the subscriber's two pgq
-- consumers (its worker and .<node>.watermark) and its subscriber row.
--
-- Parameters:
--   i_queue_name        cascaded queue
--   i_remote_node_name  subscriber node
-- Result: 200 'Subscriber unregistered: <node>'; 304 'Subscriber not found'.
-- Tables written: pgq_node.subscriber_info; pgq.subscription, pgq.consumer, pgq.retry_queue.
create or replace function pgq_node.unregister_subscriber(
  in i_queue_name text,
  in i_remote_node_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_sub record;
begin
  -- The row refers to the two consumer names: it goes before pgq may delete them.
  delete from pgq_node.subscriber_info s
   where s.queue_name = i_queue_name and s.subscriber_node = i_remote_node_name
  returning s.worker_name, s.watermark_name into v_sub;
  if not found then
    ret_code := 304;
    ret_note := 'Subscriber not found';
    return;
  end if;

  perform pgq.unregister_consumer(i_queue_name, v_sub.watermark_name);
  perform pgq.unregister_consumer(i_queue_name, v_sub.worker_name);

  ret_code := 200;
  ret_note := 'Subscriber unregistered: ' || i_remote_node_name;
  return;
end;
$$;
