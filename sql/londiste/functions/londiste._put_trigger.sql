-- londiste._put_trigger(i_table_oid oid, i_trigger_name text, i_tgtype int2, i_func regproc,
--   i_args text[], i_create_tail text) → void
--
-- Makes sure a table has a trigger of that name with that timing, events, function and
-- arguments: an equal trigger is kept, a different one is dropped and created again
-- (`create trigger <name> <i_create_tail>`). A NULL i_table_oid (no such table) just runs
-- the create statement, which reports the missing table as PostgreSQL does. Private:
-- create_trigger's row and truncate triggers.
--
-- Tables written: none (drops and creates the trigger).
create or replace function londiste._put_trigger(
  i_table_oid oid,
  i_trigger_name text,
  i_tgtype int2,
  i_func regproc,
  i_args text[],
  i_create_tail text)
returns void
language plpgsql
as $$
declare
  current record;
begin
  select tg.tgtype, tg.tgfoid, londiste._trigger_args(tg.tgargs, tg.tgnargs) as args
    into current
    from pg_catalog.pg_trigger tg
   where tg.tgrelid = i_table_oid and tg.tgname = i_trigger_name;
  if found then
    if current.tgtype = i_tgtype and current.tgfoid = i_func and current.args = i_args then
      return;
    end if;
    execute pg_catalog.format('drop trigger %I on %s', i_trigger_name, i_table_oid::regclass);
  end if;
  execute pg_catalog.format('create trigger %I ', i_trigger_name) || i_create_tail;
end;
$$;
