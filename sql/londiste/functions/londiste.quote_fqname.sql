-- londiste.quote_fqname(i_name text) → text
--
-- A stored name (`schema.name`, or `name` in public) quoted for use in SQL text:
-- `"Schema"."Name"` where quoting is needed.
--
-- Tables written: none.
create or replace function londiste.quote_fqname(i_name text)
returns text
language sql
strict
immutable
as $$
  select pg_catalog.quote_ident(s.schema_part) || '.' || pg_catalog.quote_ident(s.name_part)
    from londiste.split_fqname(i_name) s
$$;
