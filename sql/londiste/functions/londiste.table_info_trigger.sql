-- londiste.table_info_trigger() → trigger
--
-- BEFORE DELETE on londiste.table_info: a table that leaves the set (remove-table, or its
-- node dropped) loses its replication triggers in the same transaction, so no trigger keeps
-- writing events into a queue that no longer carries the table.
--
-- Tables written: none (drops triggers on the user's table).
create or replace function londiste.table_info_trigger()
returns trigger
language plpgsql
as $$
begin
  if tg_op = 'DELETE' then
    perform londiste.drop_table_triggers(old.queue_name, old.table_name);
  end if;
  return old;
end;
$$;
