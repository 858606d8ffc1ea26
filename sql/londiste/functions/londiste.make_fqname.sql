-- londiste.make_fqname(i_name text) → text
--
-- The stored form of a table or sequence name: `schema.name`, with `public.` added when the
-- name has no schema. Case is kept (no lower-casing, no quoting).
--
-- Tables written: none.
create or replace function londiste.make_fqname(i_name text)
returns text
language sql
strict
immutable
as $$
  select case when pg_catalog.strpos(i_name, '.') > 0 then i_name
              else 'public.' || i_name end
$$;
