-- pgq_node.skytools_version() → text
--
-- Which release of our schema pgq_node is installed: the package version and the schema
-- revision, which the installer compares to upgrade in place. (pgq_node.version() is the
-- upstream API version clients check.)
--
-- Result: 'skytools <package version> schema <revision>'.
-- Tables written: none.
create or replace function pgq_node.skytools_version()
returns text
language sql
immutable
as $$
  select 'skytools 0.1.0 schema 1'::text
$$;
