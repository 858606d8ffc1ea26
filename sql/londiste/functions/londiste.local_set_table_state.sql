-- londiste.local_set_table_state(i_queue_name, i_table_name, i_snapshot, i_merge_state)
--   → (ret_code int4, ret_note text)
--
-- Moves a local table to another copy state (NULL, in-copy, catching-up, wanna-sync:T,
-- do-sync:T, ok) and stores the copy's source snapshot with it (custom_snapshot).
--
-- Result: 200 'Table <schema.table> state set to '<state>'', 404 'No such table:
--   <schema.table>' (unknown, or not replicated here).
-- Tables written: londiste.table_info.
create or replace function londiste.local_set_table_state(
  in i_queue_name text,
  in i_table_name text,
  in i_snapshot text,
  in i_merge_state text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
declare
  fq_name text := londiste.make_fqname(i_table_name);
begin
  update londiste.table_info t
     set custom_snapshot = i_snapshot, merge_state = i_merge_state
   where t.queue_name = i_queue_name and t.table_name = fq_name and t.local;
  if not found then
    ret_code := 404;
    ret_note := 'No such table: ' || fq_name;
    return;
  end if;
  ret_code := 200;
  ret_note := 'Table ' || fq_name || ' state set to ' || pg_catalog.quote_nullable(i_merge_state);
end;
$$;
