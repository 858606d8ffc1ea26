-- pgq._trigger_code_ddl() → event_trigger
--
-- The function of the event trigger pgq_trigger_code (ddl_command_end, ENABLE ALWAYS, so it
-- also fires under session_replication_role = replica, as Londiste's replay runs): after
-- every DDL command that may matter, bring pgq.logutriga()'s generated code in step with
-- the tables (see pgq._trigger_generate), in the same transaction as the command; other DDL
-- (most of it: tables without these triggers, functions, temporary tables) costs one look at
-- the command list. The installer creates
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
  if current_setting('pgq.trigger_generate', true) is not distinct from 'on' then
    return;
  end if;
  -- Only commands that can change what the code depends on: a table that has (or gets) a
  -- pgq.logutriga trigger, any trigger, a schema, a type (typed tables), an extension; and
  -- drops that may take columns with them (a type, domain, collation, schema, owned objects).
  -- A dropped table or trigger leaves code that never runs again, until the next rewrite.
  if tg_tag in ('DROP TYPE', 'DROP DOMAIN', 'DROP COLLATION', 'DROP SCHEMA', 'DROP OWNED',
                'DROP EXTENSION', 'CREATE EXTENSION', 'ALTER EXTENSION')
     or exists (select 1 from pg_event_trigger_ddl_commands() c
                 where c.classid in ('pg_trigger'::regclass, 'pg_namespace'::regclass,
                                     'pg_type'::regclass)
                    or (c.classid = 'pg_class'::regclass
                        and exists (select 1 from pg_trigger t
                                     where t.tgrelid = c.objid
                                       and t.tgfoid = 'pgq.logutriga()'::regprocedure))) then
    perform pgq._trigger_generate();
  end if;
end;
$$;
