-- pgq_node.get_queue_locations(i_queue_name)
--   → setof (node_name text, node_location text, dead boolean)
--
-- The members of a cascade as this node knows them. No particular order (as upstream).
--
-- Parameters: i_queue_name - cascaded queue.
-- Result: one row per member; none for an unknown queue.
-- Tables written: none.
create or replace function pgq_node.get_queue_locations(
  in i_queue_name text,
  out node_name text,
  out node_location text,
  out dead boolean)
returns setof record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return query
    select l.node_name, l.node_location, l.dead
      from pgq_node.node_location l
     where l.queue_name = i_queue_name;
end;
$$;
