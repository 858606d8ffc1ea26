-- pgq.upgrade_schema() → int4
--
-- Bring an installed schema up to date; safe to run any number of times:
--   - pgq.subscription.sub_last_tick must be nullable (cooperative subconsumers);
--   - pgq.queue.queue_extra_maint must exist;
--   - pgq.queue must have the trigger queue_insert_slot, enabled ALWAYS (it keeps the slot
--     functions of insert_event's hot path, see pgq._generate_insert_functions);
--   - helpers of earlier revisions are dropped;
--   - roles pgq_reader (consumers), pgq_writer (producers) and pgq_admin (member of both)
--     must exist. Roles are cluster-wide; when the installing user may not create them (no
--     CREATEROLE, or not allowed to grant the memberships), a NOTICE names the statements
--     an administrator must run instead, and the rest of the upgrade goes on.
--
-- Result: the number of changes made.
-- Tables written: pgq.subscription, pgq.queue (structure); creates roles.
create or replace function pgq.upgrade_schema()
returns int4
language plpgsql
as $$
declare
  v_changes int4 := 0;
  v_admin_statements text[] := '{}';
  v_role text;
  v_sql text;
begin
  perform 1
     from pg_catalog.pg_attribute
    where attrelid = 'pgq.subscription'::pg_catalog.regclass
      and attname = 'sub_last_tick'
      and attnotnull
      and not attisdropped;
  if found then
    alter table pgq.subscription alter column sub_last_tick drop not null;
    v_changes := v_changes + 1;
  end if;

  perform 1
     from pg_catalog.pg_attribute
    where attrelid = 'pgq.queue'::pg_catalog.regclass
      and attname = 'queue_extra_maint'
      and not attisdropped;
  if not found then
    alter table pgq.queue add column queue_extra_maint text[];
    v_changes := v_changes + 1;
  end if;

  perform 1
     from pg_catalog.pg_trigger
    where tgrelid = 'pgq.queue'::pg_catalog.regclass
      and tgname = 'queue_insert_slot'
      and tgenabled = 'A';
  if not found then
    perform 1
       from pg_catalog.pg_trigger
      where tgrelid = 'pgq.queue'::pg_catalog.regclass
        and tgname = 'queue_insert_slot';
    if found then
      drop trigger queue_insert_slot on pgq.queue;
    end if;
    create trigger queue_insert_slot
      after insert or delete
         or update of queue_id, queue_cur_table, queue_disable_insert, queue_per_tx_limit
      on pgq.queue
      for each row execute function pgq._queue_insert_slot_trigger();
    alter table pgq.queue enable always trigger queue_insert_slot;
    v_changes := v_changes + 1;
  end if;

  -- Helpers of earlier revisions that nothing calls any more.
  foreach v_sql in array array[
    'pgq._insert_function_body(text,text,text,text)',
    'pgq._insert_function_source(text,text,text)',
    'pgq._insert_dispatch_tree(bigint[],text[],integer,integer)',
    'pgq._insert_name_tree(text[],text[],integer,integer)',
    'pgq._insert_slot(text)',
    'pgq._insert_next_id(text)',
    'pgq._insert_event_general(text,bigint,timestamptz,integer,integer,text,text,text,text,text,text)'
  ] loop
    if pg_catalog.to_regprocedure(v_sql) is not null then
      execute pg_catalog.format('drop function %s', pg_catalog.to_regprocedure(v_sql));
      v_changes := v_changes + 1;
    end if;
  end loop;

  -- Roles, then pgq_admin's memberships. Each step that the current user may not do is
  -- collected for the NOTICE; a role created meanwhile by a concurrent installer counts
  -- as existing.
  foreach v_role in array array['pgq_reader', 'pgq_writer', 'pgq_admin'] loop
    perform 1 from pg_catalog.pg_roles where rolname = v_role;
    continue when found;
    v_sql := pg_catalog.format('create role %I', v_role);
    begin
      execute v_sql;
      v_changes := v_changes + 1;
    exception
      when insufficient_privilege then
        v_admin_statements := v_admin_statements || v_sql;
      when duplicate_object or unique_violation then
        null;
    end;
  end loop;

  foreach v_role in array array['pgq_reader', 'pgq_writer'] loop
    v_sql := pg_catalog.format('grant %I to pgq_admin', v_role);
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_admin')
       or not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
      -- Cannot check or grant now: the admin creates the roles first.
      v_admin_statements := v_admin_statements || v_sql;
      continue;
    end if;
    continue when pg_catalog.pg_has_role('pgq_admin', v_role, 'member');
    begin
      execute v_sql;
      v_changes := v_changes + 1;
    exception
      when insufficient_privilege then
        v_admin_statements := v_admin_statements || v_sql;
    end;
  end loop;

  if pg_catalog.cardinality(v_admin_statements) > 0 then
    raise notice 'pgq roles missing; an administrator must run: %',
      pg_catalog.array_to_string(v_admin_statements, '; ') || ';'
      using detail = pg_catalog.format(
              'role %s may not create roles or grant membership in them', current_user),
            hint = 'then run pgq.upgrade_schema() again, or grant the roles by hand';
  end if;
  return v_changes;
end;
$$;
