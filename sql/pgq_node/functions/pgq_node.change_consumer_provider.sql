-- pgq_node.change_consumer_provider(i_queue_name, i_consumer_name, i_new_provider)
--   → (ret_code int4, ret_note text)
--
-- Point a cascaded consumer (or the node's worker) at another provider; it keeps its
-- position, which is valid on every node of the cascade, and is no longer up to date.
--
-- Parameters:
--   i_queue_name     cascaded queue
--   i_consumer_name  consumer
--   i_new_provider   new provider, a registered location
-- Result: 200 'Consumer provider node set to : <node>' (upstream's spacing);
--   404 'New node not found: <node>'; 404 'Unknown consumer: <queue>/<consumer>'.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.change_consumer_provider(
  in i_queue_name text,
  in i_consumer_name text,
  in i_new_provider text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform 1 from pgq_node.node_location l
    where l.queue_name = i_queue_name and l.node_name = i_new_provider;
  if not found then
    ret_code := 404;
    ret_note := 'New node not found: ' || i_new_provider;
    return;
  end if;

  update pgq_node.local_state
     set provider_node = i_new_provider, uptodate = false
   where queue_name = i_queue_name and consumer_name = i_consumer_name;
  if not found then
    ret_code := 404;
    ret_note := 'Unknown consumer: ' || i_queue_name || '/' || i_consumer_name;
    return;
  end if;

  ret_code := 200;
  ret_note := 'Consumer provider node set to : ' || i_new_provider;
  return;
end;
$$;
