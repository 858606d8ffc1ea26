-- Schema pgq_coop: cooperative consumers on top of pgq. It keeps no tables of its own: a
-- subconsumer is a row of pgq.subscription. Re-runnable.
--
-- The check below stops a psql-only install (dist/sql/pgq_coop.sql) into a database without
-- pgq before anything is created; `skytools install` makes the same check up front.

do $requires$
begin
  if pg_catalog.to_regprocedure('pgq.next_batch_custom(text, text, interval, integer, interval)')
       is null then
    raise exception 'schema pgq_coop needs schema pgq, which is not installed in database %',
        current_database()
      using hint = 'install pgq first, or both at once: skytools install pgq pgq_coop';
  end if;
end
$requires$;

create schema if not exists pgq_coop;
