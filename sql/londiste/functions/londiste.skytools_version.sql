-- londiste.skytools_version() → text
--
-- Which release of our schema londiste is installed: the package version and the schema
-- revision, which the installer compares to upgrade in place. (londiste.version() is the
-- upstream API version tools check.)
--
-- Result: 'skytools <package version> schema <revision>'.
-- Tables written: none.
create or replace function londiste.skytools_version()
returns text
language sql
immutable
as $$
  select 'skytools 0.1.0 schema 1'::text
$$;
