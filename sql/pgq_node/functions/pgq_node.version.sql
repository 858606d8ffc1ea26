-- pgq_node.version() → text
--
-- The pgq_node version whose SQL API this schema provides; admin tools read it. Our own
-- package and schema revision is pgq_node.skytools_version().
--
-- Result: '3.5'.
-- Tables written: none.
create or replace function pgq_node.version()
returns text
language sql
immutable
as $$
  select '3.5'::text
$$;
