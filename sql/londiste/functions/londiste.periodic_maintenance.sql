-- londiste.periodic_maintenance() → int4
--
-- Housekeeping pgqd runs in each database with londiste (pgq.maint_operations names it):
-- forget EXECUTE scripts applied more than 3 months ago.
--
-- Result: 0.
-- Tables written: londiste.applied_execute.
create or replace function londiste.periodic_maintenance()
returns int4
language plpgsql
as $$
begin
  delete from londiste.applied_execute
   where execute_time < pg_catalog.now() - interval '3 months';
  return 0;
end;
$$;
