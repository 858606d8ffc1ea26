-- pgq_node.drop_node(i_queue_name, i_node_name) → (ret_code int4, ret_note text)
--
-- Forget a node of a cascade on this database.
--   The local node (or any node of a queue this database is no node of): the node's
--   subscribers, consumer positions, node row, its pgq queue (with every consumer on it) and
--   every other member location go.
--   The local worker's provider: refused.
--   Any other member: it is unregistered as subscriber, if it was one.
-- In every allowed case the node's own location goes last (on the root this sends
-- pgq.unregister-location down the cascade).
--
-- Parameters:
--   i_queue_name  cascaded queue
--   i_node_name   node to drop
-- Result: 200 'Node dropped: <node>'; 405 'Cannot drop provider node: <node>'.
-- Tables written: pgq_node.* ; pgq.queue and its tables, pgq.tick, pgq.subscription,
--   pgq.consumer, pgq.retry_queue (local drop).
create or replace function pgq_node.drop_node(
  in i_queue_name text,
  in i_node_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_is_local boolean;
  v_is_provider boolean;
begin
  select n.node_name = i_node_name, s.provider_node = i_node_name
    into v_is_local, v_is_provider
    from pgq_node.node_info n
    left join pgq_node.local_state s
      on s.queue_name = n.queue_name and s.consumer_name = n.worker_name
   where n.queue_name = i_queue_name
     for update of n;

  if not found or v_is_local then
    -- subscriber_info refers to pgq consumers that the queue drop removes: it goes first.
    delete from pgq_node.subscriber_info where queue_name = i_queue_name;
    delete from pgq_node.local_state where queue_name = i_queue_name;
    delete from pgq_node.node_info where queue_name = i_queue_name;
    perform 1 from pgq.queue q where q.queue_name = i_queue_name;
    if found then
      perform pgq.drop_queue(i_queue_name, true);
    end if;
    delete from pgq_node.node_location
     where queue_name = i_queue_name and node_name <> i_node_name;
  elsif v_is_provider then
    ret_code := 405;
    ret_note := 'Cannot drop provider node: ' || i_node_name;
    return;
  else
    perform 1 from pgq_node.subscriber_info s
      where s.queue_name = i_queue_name and s.subscriber_node = i_node_name;
    if found then
      perform pgq_node.unregister_subscriber(i_queue_name, i_node_name);
    end if;
  end if;

  -- A location already gone is fine: the node is dropped either way.
  perform pgq_node.unregister_location(i_queue_name, i_node_name);

  ret_code := 200;
  ret_note := 'Node dropped: ' || i_node_name;
  return;
end;
$$;
