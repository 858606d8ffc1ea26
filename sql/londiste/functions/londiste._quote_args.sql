-- londiste._quote_args(i_args text[]) → text
--
-- Trigger arguments as the argument list of a CREATE TRIGGER statement: each one a quoted
-- literal, separated by commas. Private: create_trigger.
--
-- Tables written: none.
create or replace function londiste._quote_args(i_args text[])
returns text
language sql
immutable
strict
as $$
  select pg_catalog.string_agg(pg_catalog.quote_literal(a), ', ' order by n)
    from pg_catalog.unnest(i_args) with ordinality u(a, n)
$$;
