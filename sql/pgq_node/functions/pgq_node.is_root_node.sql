-- pgq_node.is_root_node(i_queue_name text) → bool
--
-- Whether the local node of a cascaded queue is its root (where events are produced).
--
-- Parameters: i_queue_name - cascaded queue.
-- Result: true for a root, false for a branch or leaf.
-- Errors: 'queue does not exist: <queue>' when this database is no node of it.
-- Tables written: none.
create or replace function pgq_node.is_root_node(i_queue_name text)
returns bool
language plpgsql
as $$
declare
  v_type text;
begin
  select n.node_type into v_type
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    raise exception 'queue does not exist: %', i_queue_name
      using hint = 'pgq_node.create_node() makes this database a node of the queue';
  end if;
  return v_type = 'root';
end;
$$;
