-- londiste.find_table_oid(i_name text) → oid
--
-- The oid of a table by its stored name; raises when there is no such table.
--
-- Tables written: none.
create or replace function londiste.find_table_oid(i_name text)
returns oid
language sql
stable
as $$
  select londiste.find_rel_oid(i_name, 'r')
$$;
