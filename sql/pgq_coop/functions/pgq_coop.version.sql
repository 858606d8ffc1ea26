-- pgq_coop.version() → text
--
-- The pgq_coop version whose SQL API this schema provides; clients read it to decide what they
-- may call. Our own package and schema revision is pgq_coop.skytools_version().
--
-- Result: '3.4'.
-- Tables written: none.
create or replace function pgq_coop.version()
returns text
language sql
immutable
as $$
  select '3.4'::text
$$;
