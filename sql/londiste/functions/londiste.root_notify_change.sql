-- londiste.root_notify_change(i_queue_name text, i_ev_type text, i_ev_data text) → int4
--
-- Send a set change (londiste.add-table, londiste.remove-seq, ...) from the root to every
-- node, as an event in the queue.
--
-- Result: 1.
-- Errors: 'only root node can send events' on other nodes; an unknown queue raises
--   (pgq_node.is_root_node).
-- Tables written: pgq event tables.
create or replace function londiste.root_notify_change(
  i_queue_name text,
  i_ev_type text,
  i_ev_data text)
returns int4
language plpgsql
as $$
begin
  if not pgq_node.is_root_node(i_queue_name) then
    raise exception 'only root node can send events'
      using detail = pg_catalog.format('queue %s: this node is not its root', i_queue_name),
            hint = 'run the change on the root node';
  end if;
  perform pgq.insert_event(i_queue_name, i_ev_type, i_ev_data);
  return 1;
end;
$$;
