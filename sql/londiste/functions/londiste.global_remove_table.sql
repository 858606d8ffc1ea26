-- londiste.global_remove_table(i_queue_name text, i_table_name text) → (ret_code, ret_note)
--
-- Takes a table out of the set of a queue (the londiste.remove-table event does it on every
-- node below the root). On a node other than the root the table stops being replicated
-- here first (local_remove_table: triggers dropped, dropped DDL restored). The row's
-- delete drops any triggers left (londiste.table_info_trigger).
--
-- Result: 200 'Table removed: <i_table_name>', 400 'Table not found: <schema.table>'.
--   Raises pgq_node's 'queue does not exist' for an unknown queue.
-- Tables written: londiste.table_info.
create or replace function londiste.global_remove_table(
  in i_queue_name text,
  in i_table_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
strict
as $$
declare
  fq_name text := londiste.make_fqname(i_table_name);
begin
  if not pgq_node.is_root_node(i_queue_name) then
    perform londiste.local_remove_table(i_queue_name, fq_name);
  end if;

  delete from londiste.table_info t
   where t.queue_name = i_queue_name and t.table_name = fq_name;
  if not found then
    ret_code := 400;
    ret_note := 'Table not found: ' || fq_name;
    return;
  end if;

  ret_code := 200;
  ret_note := 'Table removed: ' || i_table_name;
end;
$$;
