-- londiste.find_rel_oid(i_fqname text, i_kind text) → oid
--
-- The oid of the relation a stored name (`schema.name`, case kept) denotes, of the given
-- relkind: 'r' tables (partitioned tables count as tables), 'S' sequences, 'v' views.
-- Raises when there is none.
--
-- Tables written: none.
create or replace function londiste.find_rel_oid(i_fqname text, i_kind text)
returns oid
language plpgsql
stable
as $$
declare
  found oid;
  kinds "char"[] := case when i_kind = 'r' then array['r', 'p']::"char"[]
                         else array[i_kind]::"char"[] end;
begin
  select c.oid into found
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    join londiste.split_fqname(i_fqname) s on true
   where n.nspname = s.schema_part and c.relname = s.name_part
     and c.relkind = any (kinds);
  if found is null then
    raise exception '% not found: %',
      case i_kind when 'r' then 'Table' when 'S' then 'Sequence' when 'v' then 'View'
                  else 'Relation' end,
      i_fqname;
  end if;
  return found;
end;
$$;
