-- pgq_node.get_subscriber_info(i_queue_name)
--   → setof (node_name text, worker_name text, node_watermark int8)
--
-- The nodes that read this node's queue, by node name, with the position of each one's
-- .<node>.watermark (the lowest position of that subscriber's subtree).
--
-- Parameters: i_queue_name - cascaded queue.
-- Result: one row per subscriber; none for an unknown queue.
-- Tables written: none.
create or replace function pgq_node.get_subscriber_info(
  in i_queue_name text,
  out node_name text,
  out worker_name text,
  out node_watermark int8)
returns setof record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return query
    select s.subscriber_node, s.worker_name,
           pgq_node._consumer_position(s.queue_name, s.watermark_name)
      from pgq_node.subscriber_info s
     where s.queue_name = i_queue_name
     order by s.subscriber_node;
end;
$$;
