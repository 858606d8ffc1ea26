-- londiste.version() → text
--
-- The londiste SQL version whose API this schema provides; tools read it to decide what they
-- may call. Our own package and schema revision is londiste.skytools_version().
--
-- Result: '3.8'.
-- Tables written: none.
create or replace function londiste.version()
returns text
language sql
immutable
as $$
  select '3.8'::text
$$;
