-- pgq_node.register_location(i_queue_name, i_node_name, i_node_location, i_dead)
--   → (ret_code int4, ret_note text)
--
-- Add a member to the cascade's location list, or change its connect string or dead flag.
--
-- Parameters:
--   i_queue_name     cascaded queue
--   i_node_name      member node
--   i_node_location  its public connect string; NULL keeps the known one (tag-dead passes
--                    NULL), and a node not yet known is then not added
--   i_dead           whether the node is dead (NOT NULL, as upstream)
-- Result: 200 'Location registered'.
-- On the root the change is also sent down the cascade as event pgq.location-info
-- (ev_data = node, extra1 = queue, extra2 = location, extra3 = dead), which every worker
-- applies with this same function.
-- Tables written: pgq_node.node_location; the root's queue (the event).
create or replace function pgq_node.register_location(
  in i_queue_name text,
  in i_node_name text,
  in i_node_location text,
  in i_dead boolean,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_node_type text;
begin
  select n.node_type into v_node_type
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;

  if i_node_location is null then
    update pgq_node.node_location
       set dead = i_dead
     where queue_name = i_queue_name and node_name = i_node_name;
  else
    insert into pgq_node.node_location (queue_name, node_name, node_location, dead)
    values (i_queue_name, i_node_name, i_node_location, i_dead)
    on conflict (queue_name, node_name) do update
       set node_location = excluded.node_location, dead = excluded.dead;
  end if;

  if v_node_type = 'root' then
    perform pgq.insert_event(i_queue_name, 'pgq.location-info', i_node_name, i_queue_name,
                             i_node_location, i_dead::text, null);
  end if;

  ret_code := 200;
  ret_note := 'Location registered';
  return;
end;
$$;
