-- pgq.version() → text
--
-- The PgQ version whose SQL API this schema provides. Clients (pgqd, londiste, upgrade
-- scripts) read it to decide what they may call; it must start with '3'. Our own package
-- and schema revision is pgq.skytools_version().
--
-- Result: '3.5'.
-- Tables written: none.
create or replace function pgq.version()
returns text
language sql
immutable
as $$
  select '3.5'::text
$$;
