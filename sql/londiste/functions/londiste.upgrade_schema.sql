-- londiste.upgrade_schema() → int4
--
-- Brings the tables of an older layout up to the current one. Layouts older than londiste
-- 3.x lack dest_table (table_info) and execute_attrs (applied_execute); each step checks the
-- catalog first, so a re-run changes nothing.
--
-- Result: the number of changes made.
-- Tables written: londiste.table_info, londiste.applied_execute (columns only).
create or replace function londiste.upgrade_schema()
returns int4
language plpgsql
as $$
declare
  changes int4 := 0;
begin
  if not exists (select 1 from information_schema.columns
                  where table_schema = 'londiste' and table_name = 'table_info'
                    and column_name = 'dest_table') then
    alter table londiste.table_info add column dest_table text;
    changes := changes + 1;
  end if;
  if not exists (select 1 from information_schema.columns
                  where table_schema = 'londiste' and table_name = 'applied_execute'
                    and column_name = 'execute_attrs') then
    alter table londiste.applied_execute add column execute_attrs text;
    changes := changes + 1;
  end if;
  return changes;
end;
$$;
