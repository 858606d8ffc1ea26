-- Bring an existing installation up to this version: roles, column changes. Runs after the
-- functions are in place; pgq.upgrade_schema() does only what is still missing.
select pgq.upgrade_schema();

-- Generate pgq.insert_event (7 arguments) and pgq.insert_event_raw for the queues that exist,
-- now that every helper the generator calls is in place.
select pgq._generate_insert_functions();

-- The event trigger that keeps pgq.logutriga()'s generated code in step with the tables
-- (pgq._trigger_code_ddl); only a superuser may create one. Without it every trigger row
-- takes the general path. Then the code for the triggers that exist.
do $$
begin
  if (select r.rolsuper from pg_catalog.pg_roles r where r.rolname = current_user) then
    if not exists (select 1 from pg_catalog.pg_event_trigger e
                    where e.evtname = 'pgq_trigger_code') then
      create event trigger pgq_trigger_code on ddl_command_end
        execute function pgq._trigger_code_ddl();
    end if;
    alter event trigger pgq_trigger_code enable always;
  end if;
end;
$$;
select pgq._trigger_generate();
