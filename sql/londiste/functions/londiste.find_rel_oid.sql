-- londiste.find_rel_oid(i_fqname text, i_kind text) → oid
--
-- The oid of the relation a stored name denotes (`schema.name` split at its first dot, case
-- kept, no quoting; no dot means schema public), of the given relkind ('r' table, 'S'
-- sequence, 'v' view, ... as pg_class.relkind). NULL when there is none, as upstream: callers
-- turn that into their own (ret_code, ret_note).
-- One addition of ours: kind 'r' also finds partitioned tables (relkind 'p'), which
-- PostgreSQL 10+ replicates through row triggers like plain tables.
--
-- Tables written: none.
create or replace function londiste.find_rel_oid(i_fqname text, i_kind text)
returns oid
language sql
strict
stable
as $$
  select c.oid
    from londiste.split_fqname(i_fqname) s
    join pg_catalog.pg_namespace n on n.nspname = s.schema_part
    join pg_catalog.pg_class c on c.relnamespace = n.oid and c.relname = s.name_part
   where c.relkind::text = i_kind
      or (i_kind = 'r' and c.relkind = 'p')
$$;
