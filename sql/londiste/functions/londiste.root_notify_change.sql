-- londiste.root_notify_change(i_queue_name text, i_ev_type text, i_ev_data text) → int4
--
-- Tell every node of the set about a change made on the root (a table or sequence added to
-- or removed from the set): an event of the given type in the root's queue.
--
-- Result: 1. Raises 'only root node can send events' on any other node (or an unknown queue).
-- Tables written: the queue's event table (through pgq.insert_event).
create or replace function londiste.root_notify_change(
  i_queue_name text,
  i_ev_type text,
  i_ev_data text)
returns int4
language plpgsql
as $$
begin
  if not coalesce(pgq_node.is_root_node(i_queue_name), false) then
    raise exception 'only root node can send events'
      using detail = pg_catalog.format('queue: %s, event: %s', i_queue_name, i_ev_type),
            hint = 'run the change on the root node';
  end if;
  perform pgq.insert_event(i_queue_name, i_ev_type, i_ev_data);
  return 1;
end;
$$;
