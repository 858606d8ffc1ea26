-- londiste.local_change_handler(i_queue_name, i_table_name, i_trg_args text[],
--   i_table_attrs text) → (ret_code int4, ret_note text)
--
-- Gives a local table another handler (change-handler): stores the new attributes, then
-- puts the queue's triggers on it again with the new trigger arguments (create_trigger:
-- a trigger that differs is re-created; a SKIP trigger stays).
--
-- Result: 200 'Handler changed for table: <table>'; local_set_table_attrs' 404 (the name
--   must be given as stored); create_trigger's codes.
-- Tables written: londiste.table_info.
create or replace function londiste.local_change_handler(
  in i_queue_name text,
  in i_table_name text,
  in i_trg_args text[],
  in i_table_attrs text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
declare
  dest text;
  node_type text;
begin
  select f.ret_code, f.ret_note into ret_code, ret_note
    from londiste.local_set_table_attrs(i_queue_name, i_table_name, i_table_attrs) f;
  if ret_code <> 200 then
    return;
  end if;

  select coalesce(t.dest_table, t.table_name), n.node_type into dest, node_type
    from londiste.table_info t
    join pgq_node.node_info n on n.queue_name = t.queue_name
   where t.queue_name = i_queue_name and t.table_name = i_table_name;

  select f.ret_code, f.ret_note into ret_code, ret_note
    from londiste.create_trigger(i_queue_name, i_table_name, i_trg_args, dest, node_type) f;
  if ret_code > 299 then
    ret_note := 'Trigger creation failed for table ' || i_table_name || ': ' || ret_note;
    return;
  end if;

  ret_code := 200;
  ret_note := 'Handler changed for table: ' || i_table_name;
end;
$$;
