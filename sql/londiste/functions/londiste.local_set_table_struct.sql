-- londiste.local_set_table_struct(i_queue_name, i_table_name, i_dropped_ddl)
--   → (ret_code int4, ret_note text)
--
-- Stores (or clears, with NULL) the DDL a copy dropped from a local table (indexes,
-- constraints) and must restore when it ends. Only while the table is in-copy or
-- catching-up (a check on londiste.table_info refuses it otherwise).
--
-- Result: 200 'Table struct stored', 404 'no such local table: <table>'.
-- Tables written: londiste.table_info.
create or replace function londiste.local_set_table_struct(
  in i_queue_name text,
  in i_table_name text,
  in i_dropped_ddl text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
begin
  update londiste.table_info t
     set dropped_ddl = i_dropped_ddl
   where t.queue_name = i_queue_name and t.table_name = i_table_name and t.local;
  if not found then
    ret_code := 404;
    ret_note := 'no such local table: ' || i_table_name;
    return;
  end if;
  ret_code := 200;
  ret_note := 'Table struct stored';
end;
$$;
