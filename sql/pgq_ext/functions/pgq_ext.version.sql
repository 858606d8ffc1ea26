-- pgq_ext.version() → text
--
-- The pgq_ext version whose SQL API this schema provides; clients read it to decide what they
-- may call. Our own package and schema revision is pgq_ext.skytools_version().
--
-- Result: '3.3'.
-- Tables written: none.
create or replace function pgq_ext.version()
returns text
language sql
immutable
as $$
  select '3.3'::text
$$;
