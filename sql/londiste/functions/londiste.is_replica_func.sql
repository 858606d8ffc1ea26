-- londiste.is_replica_func(func_oid oid) → boolean
--
-- Whether a trigger function is one of the PgQ row triggers londiste installs
-- (pgq.logutriga, pgq.sqltriga, pgq.jsontriga): create_trigger uses it to find the SKIP
-- triggers of a table. NULL in, NULL out.
--
-- Tables written: none.
create or replace function londiste.is_replica_func(func_oid oid)
returns boolean
language sql
stable
strict
as $$
  select exists (
    select 1
      from pg_catalog.pg_proc p
     where p.oid = func_oid
       and p.pronamespace = 'pgq'::regnamespace
       and p.proname in ('logutriga', 'sqltriga', 'jsontriga'))
$$;
