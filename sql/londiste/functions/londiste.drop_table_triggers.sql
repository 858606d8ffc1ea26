-- londiste.drop_table_triggers(i_queue_name text, i_table_name text) → void
--
-- Drops the replication triggers of one queue from a table of its set: the row trigger
-- (_londiste_<queue>), its SKIP form (zzz__londiste_<queue>) and the truncate trigger
-- (_londiste_<queue>_truncate), on the destination table when the table has one. Other
-- triggers, and other queues' triggers, stay. A table the queue does not know, or a table
-- that no longer exists, is left alone. The name must be given as stored (schema.table),
-- as upstream.
--
-- Tables written: none (drops triggers on the user's table).
create or replace function londiste.drop_table_triggers(
  i_queue_name text,
  i_table_name text)
returns void
language plpgsql
strict
as $$
declare
  target text;
  target_oid oid;
  trigger_name text;
begin
  select coalesce(t.dest_table, t.table_name) into target
    from londiste.table_info t
   where t.queue_name = i_queue_name
     and t.table_name = i_table_name;
  if not found then
    return;
  end if;
  target_oid := pg_catalog.to_regclass(londiste.quote_fqname(target));
  if target_oid is null then
    return;
  end if;
  for trigger_name in
    select tg.tgname
      from pg_catalog.pg_trigger tg
     where tg.tgrelid = target_oid
       and tg.tgname in ('_londiste_' || i_queue_name,
                         'zzz__londiste_' || i_queue_name,
                         '_londiste_' || i_queue_name || '_truncate')
  loop
    execute pg_catalog.format('drop trigger %I on %s', trigger_name,
                              target_oid::regclass);
  end loop;
end;
$$;
