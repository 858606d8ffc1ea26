-- londiste.create_trigger(i_queue_name, i_table_name, i_trg_args text[], i_dest_table,
--   i_node_type) → (ret_code int4, ret_note text, trigger_name text)
--
-- Puts the replication triggers of a queue on a table (on i_dest_table, where the events of
-- i_table_name are applied):
--   row trigger _londiste_<queue>: AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW
--     EXECUTE PROCEDURE pgq.logutriga('<queue>', args...)
--   truncate trigger _londiste_<queue>_truncate: AFTER TRUNCATE FOR EACH STATEMENT
--     EXECUTE PROCEDURE pgq.sqltriga('<queue>')
-- Arguments in i_trg_args:
--   tgflags=<letters>  B before / A after, I U D the events (none: all three),
--                      Q sqltriga / L logutriga / J jsontriga, S a SKIP trigger;
--                      other letters are ignored
--   SKIP or skip       the same as flag S
--   expect_sync, skip_truncate, merge_all, no_merge
--                      local_add_table's own: ignored here
--   no_triggers, virtual_table
--                      nothing is created: 201 'Trigger not created'
--   anything else      passed to the pgq trigger as it is
-- A SKIP trigger is named zzz__londiste_<queue> and gets the argument SKIP. When the table
-- already has one SKIP trigger (a pgq trigger with the argument SKIP), that one stays the
-- SKIP trigger: it is renamed zzz_<name> (so it fires last) unless its name starts with
-- zzz_, and the new trigger is an ordinary one; two or more: 405 'Multiple SKIP triggers'.
-- An AFTER trigger cannot work beside a SKIP trigger: 403 'AFTER trigger cannot work with
-- SKIP trigger(s)' (checked first). When the destination differs from the table, the events carry the set's
-- table name: ev_extra1='<table>' unless an ev_extra1= argument is given. On a leaf both
-- triggers get 'deny': local writes to a replicated table fail. A trigger of the same name
-- that differs is dropped and created again; an equal one is kept.
--
-- Result: 200 'OK' (trigger_name is NULL, as upstream), 201, 403, 405 above. A missing
--   destination table raises PostgreSQL's 'relation ... does not exist'.
-- Tables written: none (creates, renames and drops triggers on the user's table).
create or replace function londiste.create_trigger(
  in i_queue_name text,
  in i_table_name text,
  in i_trg_args text[],
  in i_dest_table text,
  in i_node_type text,
  out ret_code int4,
  out ret_note text,
  out trigger_name text)
returns record
language plpgsql
as $$
declare
  arg text;
  flags text := '';
  pass_args text[] := '{}';
  has_extra1 boolean := false;
  want_skip boolean := false;
  is_before boolean;
  events text[] := '{}';
  func text;
  target_oid oid;
  skip_count int4;
  skip_name name;
  row_name text := '_londiste_' || i_queue_name;
  trunc_name text := '_londiste_' || i_queue_name || '_truncate';
  row_args text[];
  trunc_args text[] := array[i_queue_name];
  row_type int2;
begin
  if i_dest_table is null then
    raise exception 'londiste.create_trigger: destination table is NULL'
      using detail = pg_catalog.format('queue: %s, table: %s', i_queue_name, i_table_name),
            hint = 'pass the table name itself when events are applied to the same table';
  end if;

  foreach arg in array coalesce(i_trg_args, '{}') loop
    if arg like 'tgflags=%' then
      flags := pg_catalog.upper(pg_catalog.substr(arg, 9));
    elsif arg in ('SKIP', 'skip') then
      want_skip := true;
    elsif arg in ('expect_sync', 'skip_truncate', 'merge_all', 'no_merge') then
      continue;
    elsif arg in ('no_triggers', 'virtual_table') then
      ret_code := 201;
      ret_note := 'Trigger not created';
      return;
    else
      if arg like 'ev_extra1=%' then
        has_extra1 := true;
      end if;
      pass_args := pass_args || arg;
    end if;
  end loop;

  if i_dest_table <> i_table_name and not has_extra1 then
    pass_args := pass_args || ('ev_extra1=' || pg_catalog.quote_literal(i_table_name));
  end if;

  want_skip := want_skip or pg_catalog.strpos(flags, 'S') > 0;
  is_before := pg_catalog.strpos(flags, 'B') > 0;
  if pg_catalog.strpos(flags, 'I') > 0 then events := events || 'insert'::text; end if;
  if pg_catalog.strpos(flags, 'U') > 0 then events := events || 'update'::text; end if;
  if pg_catalog.strpos(flags, 'D') > 0 then events := events || 'delete'::text; end if;
  if pg_catalog.cardinality(events) = 0 then
    events := array['insert', 'update', 'delete'];
  end if;
  func := case when pg_catalog.strpos(flags, 'Q') > 0 then 'sqltriga'
               when pg_catalog.strpos(flags, 'J') > 0 then 'jsontriga'
               else 'logutriga' end;

  -- SKIP triggers already on the table: pgq triggers given the argument SKIP.
  target_oid := pg_catalog.to_regclass(londiste.quote_fqname(i_dest_table));
  select pg_catalog.count(*), pg_catalog.min(tg.tgname) into skip_count, skip_name
    from pg_catalog.pg_trigger tg
   where tg.tgrelid = target_oid
     and londiste.is_replica_func(tg.tgfoid)
     and 'SKIP' = any (londiste._trigger_args(tg.tgargs, tg.tgnargs));

  if not is_before and skip_count > 0 then
    ret_code := 403;
    ret_note := 'AFTER trigger cannot work with SKIP trigger(s)';
    return;
  end if;
  if want_skip and skip_count > 1 then
    ret_code := 405;
    ret_note := 'Multiple SKIP triggers';
    return;
  elsif want_skip and skip_count = 1 then
    -- The table keeps its one SKIP trigger; it must fire after ours.
    if skip_name not like 'zzz\_%' then
      execute pg_catalog.format('alter trigger %I on %s rename to %I', skip_name,
                                target_oid::regclass, 'zzz_' || skip_name);
    end if;
    want_skip := false;
  end if;

  if want_skip then
    row_name := 'zzz_' || row_name;
    pass_args := pass_args || 'SKIP'::text;
  end if;
  if i_node_type = 'leaf' then
    pass_args := pass_args || 'deny'::text;
    trunc_args := trunc_args || 'deny'::text;
  end if;
  row_args := array[i_queue_name] || pass_args;

  -- pg_trigger.tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update, 32 truncate.
  row_type := 1 + case when is_before then 2 else 0 end
                + case when 'insert' = any (events) then 4 else 0 end
                + case when 'delete' = any (events) then 8 else 0 end
                + case when 'update' = any (events) then 16 else 0 end;
  perform londiste._put_trigger(target_oid, row_name, row_type, ('pgq.' || func)::regproc,
    row_args,
    pg_catalog.format('%s %s on %s for each row execute procedure pgq.%I(%s)',
      case when is_before then 'before' else 'after' end,
      pg_catalog.array_to_string(events, ' or '),
      londiste.quote_fqname(i_dest_table), func, londiste._quote_args(row_args)));
  perform londiste._put_trigger(target_oid, trunc_name, 32::int2, 'pgq.sqltriga'::regproc,
    trunc_args,
    pg_catalog.format('after truncate on %s for each statement execute procedure pgq.sqltriga(%s)',
      londiste.quote_fqname(i_dest_table), londiste._quote_args(trunc_args)));

  ret_code := 200;
  ret_note := 'OK';
end;
$$;
