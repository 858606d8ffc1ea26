-- londiste.local_change_handler(i_queue_name, i_table_name, i_trg_args text[],
--   i_table_attrs text) → (ret_code int4, ret_note text)
--
-- Gives a local table another handler (change-handler): stores the new attributes, then
-- puts the queue's triggers on it again with the new trigger arguments (create_trigger:
-- a trigger that differs is re-created; a SKIP trigger stays).
--
-- Result: 200 'Handler changed for table: <table>', 200 'Table handler updated with no
--   triggers: <table>' (no_triggers, virtual_table), 400 'No such set: <queue>',
--   local_set_table_attrs' 404 (the name must be given as stored), create_trigger's
--   refusals as 'Trigger creation failed for table <table>: <note>'.
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
  select n.node_type into node_type
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    ret_code := 400;
    ret_note := 'No such set: ' || i_queue_name;
    return;
  end if;

  select f.ret_code, f.ret_note into ret_code, ret_note
    from londiste.local_set_table_attrs(i_queue_name, i_table_name, i_table_attrs) f;
  if ret_code <> 200 then
    return;
  end if;

  select coalesce(t.dest_table, t.table_name) into dest
    from londiste.table_info t
   where t.queue_name = i_queue_name and t.table_name = i_table_name;

  select f.ret_code, f.ret_note into ret_code, ret_note
    from londiste.create_trigger(i_queue_name, i_table_name, i_trg_args, dest, node_type) f;
  if ret_code = 201 then
    ret_code := 200;
    ret_note := 'Table handler updated with no triggers: ' || i_table_name;
    return;
  elsif ret_code > 299 then
    ret_note := 'Trigger creation failed for table ' || i_table_name || ': ' || ret_note;
    return;
  end if;

  ret_code := 200;
  ret_note := 'Handler changed for table: ' || i_table_name;
end;
$$;
