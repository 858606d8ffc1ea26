-- londiste.split_fqname(i_fqname text) → (schema_part text, name_part text)
--
-- Splits a table or sequence name as londiste stores it (`schema.name`, case kept, no
-- quoting) at its first dot; a name without a dot is in schema public.
--
-- Tables written: none.
create or replace function londiste.split_fqname(
  in i_fqname text,
  out schema_part text,
  out name_part text)
language plpgsql
strict
immutable
as $$
declare
  dot int4 := pg_catalog.strpos(i_fqname, '.');
begin
  if dot = 0 then
    schema_part := 'public';
    name_part := i_fqname;
  else
    schema_part := pg_catalog.substr(i_fqname, 1, dot - 1);
    name_part := pg_catalog.substr(i_fqname, dot + 1);
  end if;
end;
$$;
