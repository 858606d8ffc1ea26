-- pgq.tune_storage(i_queue_name text) → integer
--
-- Set the storage parameters of a queue's data tables: they are filled once and truncated
-- at rotation, never updated, so no free space per page and no autovacuum
-- (fillfactor = 100, autovacuum_enabled = off, toast.autovacuum_enabled = off).
--
-- Parameters: i_queue_name - queue name.
-- Result: 1.
-- Tables written: storage options of pgq.event_N_0 .. pgq.event_N_<ntables-1>.
create or replace function pgq.tune_storage(i_queue_name text)
returns integer
language plpgsql
strict
as $$
declare
  v_data_pfx text;
  v_ntables integer;
  i integer;
begin
  select queue_data_pfx, queue_ntables
    into v_data_pfx, v_ntables
    from pgq.queue
   where queue_name = i_queue_name;
  if not found then
    raise exception 'Queue not found'
      using detail = pg_catalog.format('queue: %s', i_queue_name);
  end if;

  for i in 0 .. v_ntables - 1 loop
    execute pg_catalog.format(
      'alter table %s set (fillfactor = 100, autovacuum_enabled = off, toast.autovacuum_enabled = off)',
      pgq.quote_fqname(v_data_pfx || '_' || i::text));
  end loop;
  return 1;
end;
$$;
