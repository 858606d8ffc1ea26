-- londiste.list_obsolete_partitions(i_parent_table text, i_retention_period interval,
--   i_partition_period text) → setof text
--
-- The time partitions of a table that are past their retention: tables (plain or
-- partitioned) in the parent's schema named `<parent>_<date>`, the date in the period's
-- form (see londiste.is_obsolete_partition), whose period is obsolete. Found by name, not
-- by inheritance; the parent itself need not exist. Names are quoted (`schema.name` ready
-- for SQL), in name order.
-- Unlike upstream, the parent's name is matched literally: regular-expression characters
-- in it (`.`, `(`, ...) are plain characters here.
--
-- Errors: 'not supported i_partition_period: <period>'; a NULL parent.
-- Tables written: none.
create or replace function londiste.list_obsolete_partitions(
  i_parent_table text,
  i_retention_period interval,
  i_partition_period text)
returns setof text
language plpgsql
as $$
declare
  _schema text not null := (londiste.split_fqname(i_parent_table)).schema_part;
  v_name text := (londiste.split_fqname(i_parent_table)).name_part;
begin
  -- The period is checked even when no table qualifies.
  perform londiste.is_obsolete_partition('', i_retention_period, i_partition_period);
  return query
    select pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname)
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname = _schema
       and c.relkind in ('r', 'p')
       and pg_catalog.starts_with(c.relname, v_name || '_')
       -- all of the rest is a date (is_obsolete_partition checks its form for the period)
       and pg_catalog.substr(c.relname, pg_catalog.length(v_name) + 2) ~ '^[0-9]{4}(_[0-9]{2})*$'
       and londiste.is_obsolete_partition(c.relname, i_retention_period, i_partition_period)
     order by 1;
end;
$$;
