-- pgq.batch_event_tables(x_batch_id): the data tables that may hold a batch's events.
--
-- Parameters: x_batch_id: an open batch.
-- Result: one or two table names (the previous table first), e.g. 'pgq.event_1_0', as
--   pgq._batch_tables chooses them.
-- Errors: 'Cannot find data for batch %'.
-- Writes: nothing.
create or replace function pgq.batch_event_tables(x_batch_id bigint)
returns setof text
language plpgsql
as $$
declare
  v_tables text[];
begin
  select pgq._batch_tables(q.queue_data_pfx, q.queue_cur_table, q.queue_ntables,
                           q.queue_switch_step1, q.queue_switch_step2,
                           pg_catalog.txid_snapshot_xmin(pt.tick_snapshot),
                           pg_catalog.txid_snapshot_xmax(ct.tick_snapshot))
    into v_tables
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.tick pt on pt.tick_queue = s.sub_queue and pt.tick_id = s.sub_last_tick
    join pgq.tick ct on ct.tick_queue = s.sub_queue and ct.tick_id = s.sub_next_tick
   where s.sub_batch = x_batch_id;
  if not found then
    raise exception 'Cannot find data for batch %', x_batch_id
      using detail = 'the batch is not open, or one of its ticks is gone';
  end if;
  return query select unnest(v_tables);
end;
$$;
