-- pgq_node.unregister_consumer(i_queue_name, i_consumer_name) → (ret_code int4, ret_note text)
--
-- Forget a cascaded consumer of this node (its position and state).
--
-- Parameters:
--   i_queue_name     cascaded queue
--   i_consumer_name  consumer
-- Result: 200 'Consumer <consumer> unregistered from <queue>' (also when it was not
--   registered); 404 'Unknown queue: <queue>'.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.unregister_consumer(
  in i_queue_name text,
  in i_consumer_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform 1 from pgq_node.node_info n where n.queue_name = i_queue_name;
  if not found then
    ret_code := 404;
    ret_note := 'Unknown queue: ' || i_queue_name;
    return;
  end if;

  -- A consumer that is not registered is already gone: 200 as well (as upstream).
  delete from pgq_node.local_state
   where queue_name = i_queue_name and consumer_name = i_consumer_name;

  ret_code := 200;
  ret_note := 'Consumer ' || i_consumer_name || ' unregistered from ' || i_queue_name;
  return;
end;
$$;
