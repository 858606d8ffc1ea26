-- pgq.quote_fqname(i_name text) → text
--
-- Quote a possibly schema-qualified name for use in SQL: the part before the first dot is
-- the schema (default `public`), the rest is the object name; each part goes through
-- quote_ident().
--
-- Parameters: i_name - `schema.name` or `name`.
-- Result: `quote_ident(schema).quote_ident(name)`.
-- Tables written: none.
create or replace function pgq.quote_fqname(i_name text)
returns text
language sql
strict
immutable
as $$
  select case
    when pg_catalog.strpos($1, '.') > 0 then
      pg_catalog.quote_ident(pg_catalog.substr($1, 1, pg_catalog.strpos($1, '.') - 1))
      || '.'
      || pg_catalog.quote_ident(pg_catalog.substr($1, pg_catalog.strpos($1, '.') + 1))
    else
      'public.' || pg_catalog.quote_ident($1)
  end
$$;
