-- pgq_node.unregister_location(i_queue_name, i_node_name) → (ret_code int4, ret_note text)
--
-- Remove a member from the cascade's location list. A node that still subscribes to this one
-- is unregistered as subscriber first (its two pgq consumers go with it).
--
-- Parameters:
--   i_queue_name  cascaded queue
--   i_node_name   member to remove
-- Result: 200 'Ok'; 301 'Location not found: <queue>/<node>';
--   403 'Cannot drop node''s own location' (the local node);
--   403 'Cannot drop location of node''s parent' (the local worker's provider).
-- On the root a removal is also sent down the cascade as event pgq.unregister-location
-- (ev_data = node, extra1 = queue).
-- Tables written: pgq_node.node_location, pgq_node.subscriber_info, pgq.subscription;
--   the root's queue (the event).
create or replace function pgq_node.unregister_location(
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
  v_node record;
  v_provider text;
begin
  select n.node_name, n.node_type, n.worker_name into v_node
    from pgq_node.node_info n
   where n.queue_name = i_queue_name
     for update;
  if found then
    if v_node.node_name = i_node_name then
      ret_code := 403;
      ret_note := 'Cannot drop node''s own location';
      return;
    end if;
    select s.provider_node into v_provider
      from pgq_node.local_state s
     where s.queue_name = i_queue_name and s.consumer_name = v_node.worker_name;
    if v_provider = i_node_name then
      ret_code := 403;
      ret_note := 'Cannot drop location of node''s parent';
      return;
    end if;
  end if;

  perform 1 from pgq_node.subscriber_info s
    where s.queue_name = i_queue_name and s.subscriber_node = i_node_name;
  if found then
    perform pgq_node.unregister_subscriber(i_queue_name, i_node_name);
  end if;

  delete from pgq_node.node_location
   where queue_name = i_queue_name and node_name = i_node_name;
  if not found then
    ret_code := 301;
    ret_note := 'Location not found: ' || i_queue_name || '/' || i_node_name;
    return;
  end if;

  if v_node.node_type = 'root' then
    perform pgq.insert_event(i_queue_name, 'pgq.unregister-location', i_node_name, i_queue_name,
                             null, null, null);
  end if;

  ret_code := 200;
  ret_note := 'Ok';
  return;
end;
$$;
