-- londiste.restore_table_fkey(i_from_table text, i_fkey_name text, i_lazy bool default false)
--   → text
--
-- Put back a foreign key that londiste.drop_table_fkey dropped.
--   non-lazy: runs the stored definition and forgets it; returns ''.
--   lazy:     returns the next statement for the caller to run, so the long validation can
--             run outside the caller's transaction: first the definition with ' not valid'
--             appended (while the constraint is missing), then
--             'alter table only <table> validate constraint <name>' (while it is not
--             validated), then '' once it is valid, forgetting it.
-- Result: as above; '' when nothing is pending under that name.
-- Tables written: londiste.pending_fkeys; the table (non-lazy: constraint added).
create or replace function londiste.restore_table_fkey(
  i_from_table text,
  i_fkey_name text,
  i_lazy boolean default false)
returns text
language plpgsql
strict
as $$
declare
  v_fkey londiste.pending_fkeys;
  v_validated boolean;
begin
  select * into v_fkey
    from londiste.pending_fkeys p
   where p.from_table = i_from_table and p.fkey_name = i_fkey_name
     for update;
  if not found then
    return '';
  end if;

  if not i_lazy then
    execute v_fkey.fkey_def;
  else
    select c.convalidated into v_validated
      from pg_catalog.pg_constraint c
     where c.conrelid = londiste.find_table_oid(i_from_table)
       and c.conname = i_fkey_name
       and c.contype = 'f';
    if not found then
      return v_fkey.fkey_def || ' not valid';
    elsif not v_validated then
      return pg_catalog.format('alter table only %s validate constraint %I',
                               londiste.quote_fqname(i_from_table), i_fkey_name);
    end if;
  end if;

  delete from londiste.pending_fkeys p
   where p.from_table = i_from_table and p.fkey_name = i_fkey_name;
  return '';
end;
$$;
