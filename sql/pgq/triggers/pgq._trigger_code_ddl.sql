-- pgq._trigger_code_ddl() → event_trigger
--
-- The function of the event trigger pgq_trigger_code (ddl_command_end, ENABLE ALWAYS, so it
-- also fires under session_replication_role = replica, as Londiste's replay runs): after
-- every DDL command, bring pgq.logutriga()'s generated code in step with the tables (see
-- pgq._trigger_generate), in the same transaction as the command. The installer creates
-- the event trigger when it runs as a superuser (only superusers may); without it the
-- triggers take the general path.
--
-- SECURITY DEFINER: whoever runs DDL may need the code rewritten, which only the schema
-- owner may do.
-- Tables written: none (replaces pgq.logutriga() when the code changes).
create or replace function pgq._trigger_code_ddl()
returns event_trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  -- pgq._trigger_generate's own CREATE FUNCTION is a DDL command too
  if current_setting('pgq.trigger_generate', true) is distinct from 'on' then
    perform pgq._trigger_generate();
  end if;
end;
$$;
