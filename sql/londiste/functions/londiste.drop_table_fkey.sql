-- londiste.drop_table_fkey(i_from_table text, i_fkey_name text) → int4
--
-- Drop a foreign key of a table before its copy, keeping its definition in
-- londiste.pending_fkeys so londiste.restore_table_fkey can put it back.
--
-- Parameters: i_from_table - the table the key is on, in stored form (`schema.name`);
--             i_fkey_name  - the constraint's name.
-- Result: 1 when dropped, 0 when the table has no such foreign key.
-- Errors: a key already pending under that name (unique violation on pending_fkeys).
-- Tables written: londiste.pending_fkeys; the table (constraint dropped).
create or replace function londiste.drop_table_fkey(i_from_table text, i_fkey_name text)
returns int4
language plpgsql
strict
as $$
declare
  v_fkey londiste.pending_fkeys;
begin
  select * into v_fkey
    from londiste.find_table_fkeys(i_from_table) f
   where f.fkey_name = i_fkey_name and f.from_table = i_from_table;
  if not found then
    return 0;
  end if;
  insert into londiste.pending_fkeys (from_table, to_table, fkey_name, fkey_def)
  values (v_fkey.from_table, v_fkey.to_table, v_fkey.fkey_name, v_fkey.fkey_def);
  execute pg_catalog.format('alter table only %s drop constraint %I',
                            londiste.quote_fqname(i_from_table), i_fkey_name);
  return 1;
end;
$$;
