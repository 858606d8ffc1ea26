-- londiste.local_set_table_attrs(i_queue_name, i_table_name, i_table_attrs)
--   → (ret_code int4, ret_note text)
--
-- Stores the attributes of a local table (urlencoded: handler, skip_truncate, copy_node,
-- max_parallel_copy, ...). The name must be given as stored (schema.table).
--
-- Result: 200 '<table>: Table attributes stored', 404 'no such local table: <table>'.
-- Tables written: londiste.table_info.
create or replace function londiste.local_set_table_attrs(
  in i_queue_name text,
  in i_table_name text,
  in i_table_attrs text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
begin
  update londiste.table_info t
     set table_attrs = i_table_attrs
   where t.queue_name = i_queue_name and t.table_name = i_table_name and t.local;
  if not found then
    ret_code := 404;
    ret_note := 'no such local table: ' || i_table_name;
    return;
  end if;
  ret_code := 200;
  ret_note := i_table_name || ': Table attributes stored';
end;
$$;
