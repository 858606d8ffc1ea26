-- pgq_node.register_consumer(i_queue_name, i_consumer_name, i_provider_node, i_custom_tick_id)
--   → (ret_code int4, ret_note text)
--
-- Record a cascaded consumer that writes into this node: the node's worker (create_node
-- does it) or a plain cascaded consumer. Its position lives here, in the target, so it can
-- be committed with the consumer's work and survives a change of provider.
--
-- Parameters:
--   i_queue_name      cascaded queue (this database must be a node of it)
--   i_consumer_name   consumer
--   i_provider_node   node it reads from (a registered location)
--   i_custom_tick_id  its position: the last tick it has completed
-- Result: 200 'Consumer <consumer> registered on queue <queue>';
--   201 'Consumer already registered: <queue>/<consumer>' (provider and position are moved
--   to the given ones); 404 'Unknown queue: <queue>'. A NULL position fails on NOT NULL.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.register_consumer(
  in i_queue_name text,
  in i_consumer_name text,
  in i_provider_node text,
  in i_custom_tick_id int8,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform 1 from pgq_node.node_info n where n.queue_name = i_queue_name for share;
  if not found then
    ret_code := 404;
    ret_note := 'Unknown queue: ' || i_queue_name;
    return;
  end if;

  update pgq_node.local_state
     set provider_node = i_provider_node,
         last_tick_id = i_custom_tick_id
   where queue_name = i_queue_name and consumer_name = i_consumer_name;
  if found then
    ret_code := 201;
    ret_note := 'Consumer already registered: ' || i_queue_name || '/' || i_consumer_name;
    return;
  end if;

  insert into pgq_node.local_state (queue_name, consumer_name, provider_node, last_tick_id)
  values (i_queue_name, i_consumer_name, i_provider_node, i_custom_tick_id);

  ret_code := 200;
  ret_note := 'Consumer ' || i_consumer_name || ' registered on queue ' || i_queue_name;
  return;
end;
$$;
