-- pgq_node.set_node_attrs(i_queue_name, i_node_attrs) → (ret_code int4, ret_note text)
--
-- Replace the node's attributes: an urlencoded string such as 'sync_watermark=n4,n5', read
-- by the worker and shown by admin tools. NULL clears them.
--
-- Parameters:
--   i_queue_name  cascaded queue
--   i_node_attrs  new attributes
-- Result: 200 'Node attributes updated'; 404 'Node not found'.
-- Tables written: pgq_node.node_info.
create or replace function pgq_node.set_node_attrs(
  in i_queue_name text,
  in i_node_attrs text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update pgq_node.node_info
     set node_attrs = i_node_attrs
   where queue_name = i_queue_name;
  if not found then
    ret_code := 404;
    ret_note := 'Node not found';
    return;
  end if;
  ret_code := 200;
  ret_note := 'Node attributes updated';
  return;
end;
$$;
