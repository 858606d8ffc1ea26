-- londiste.find_table_oid(tbl text) → oid
--
-- The oid of a table (or partitioned table) by its stored name (`schema.name`); NULL when
-- there is no such table.
--
-- Tables written: none.

-- An early revision named the parameter i_name; a parameter name cannot be changed in place.
do $rename$
begin
  if (select p.proargnames from pg_catalog.pg_proc p
       where p.oid = pg_catalog.to_regprocedure('londiste.find_table_oid(text)'))
     is distinct from array['tbl'] then
    drop function if exists londiste.find_table_oid(text);
  end if;
end
$rename$;

create or replace function londiste.find_table_oid(tbl text)
returns oid
language sql
strict
stable
as $$
  select londiste.find_rel_oid(tbl, 'r')
$$;
