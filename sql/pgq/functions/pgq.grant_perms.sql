-- pgq.grant_perms(x_queue_name text) → integer
--
-- Give a queue's objects the privileges its users need: the table privileges of
-- pgq.event_template are copied to pgq.event_N and every data table pgq.event_N_<i>;
-- both sequences get SELECT for PUBLIC, and the event sequence USAGE for pgq_admin (when
-- that role exists), so admins can insert rows that take their ev_id from it.
--
-- Parameters: x_queue_name - queue name.
-- Result: 1.
-- Tables written: privileges of the queue's tables and sequences.
create or replace function pgq.grant_perms(x_queue_name text)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue record;
  v_schema text;
  v_table text;
  i integer;
begin
  select queue_data_pfx, queue_ntables, queue_event_seq, queue_tick_seq
    into v_queue
    from pgq.queue
   where queue_name = x_queue_name;
  if not found then
    raise exception 'Queue not found'
      using detail = format('queue: %s', x_queue_name);
  end if;

  execute format('grant select on sequence %s to public', pgq.quote_fqname(v_queue.queue_tick_seq));
  execute format('grant select on sequence %s to public', pgq.quote_fqname(v_queue.queue_event_seq));
  perform 1 from pg_roles where rolname = 'pgq_admin';
  if found then
    execute format('grant usage on sequence %s to pgq_admin',
                   pgq.quote_fqname(v_queue.queue_event_seq));
  end if;

  -- queue_data_pfx is `schema.table`; split at the first dot as quote_fqname does.
  if strpos(v_queue.queue_data_pfx, '.') > 0 then
    v_schema := substr(v_queue.queue_data_pfx, 1, strpos(v_queue.queue_data_pfx, '.') - 1);
    v_table := substr(v_queue.queue_data_pfx, strpos(v_queue.queue_data_pfx, '.') + 1);
  else
    v_schema := 'public';
    v_table := v_queue.queue_data_pfx;
  end if;

  perform pgq._grant_perms_from('pgq', 'event_template', v_schema, v_table);
  for i in 0 .. v_queue.queue_ntables - 1 loop
    perform pgq._grant_perms_from('pgq', 'event_template', v_schema, v_table || '_' || i::text);
  end loop;
  return 1;
end;
$$;
