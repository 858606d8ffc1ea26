-- pgq.batch_event_tables(x_batch_id): the data tables that may hold a batch's events.
--
-- Parameters: x_batch_id: an open batch.
-- Result: one or two table names (the previous table first), e.g. 'pgq.event_1_0'.
--   The batch covers txids from the xmin of its start tick to the xmax of its end tick:
--   * end xmax below queue_switch_step1: every transaction of the batch committed before the
--     last table switch began, so only the table before the current one;
--   * queue_switch_step2 set and start xmin above it: every transaction of the batch began
--     after the switch was complete, so only the current table;
--   * otherwise both.
-- Errors: 'Cannot find data for batch %'.
-- Writes: nothing.
create or replace function pgq.batch_event_tables(x_batch_id bigint)
returns setof text
language plpgsql
as $$
declare
  v_pfx text;
  v_cur_table integer;
  v_ntables integer;
  v_step1 bigint;
  v_step2 bigint;
  v_lo bigint;
  v_hi bigint;
  v_prev_table text;
  v_cur_name text;
begin
  select q.queue_data_pfx, q.queue_cur_table, q.queue_ntables,
         q.queue_switch_step1, q.queue_switch_step2,
         pg_catalog.txid_snapshot_xmin(pt.tick_snapshot),
         pg_catalog.txid_snapshot_xmax(ct.tick_snapshot)
    into v_pfx, v_cur_table, v_ntables, v_step1, v_step2, v_lo, v_hi
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.tick pt on pt.tick_queue = s.sub_queue and pt.tick_id = s.sub_last_tick
    join pgq.tick ct on ct.tick_queue = s.sub_queue and ct.tick_id = s.sub_next_tick
   where s.sub_batch = x_batch_id;
  if not found then
    raise exception 'Cannot find data for batch %', x_batch_id
      using detail = 'the batch is not open, or one of its ticks is gone';
  end if;

  v_prev_table := v_pfx || '_' || ((v_cur_table + v_ntables - 1) % v_ntables)::text;
  v_cur_name := v_pfx || '_' || v_cur_table::text;

  if v_hi < v_step1 then
    return next v_prev_table;
  elsif v_step2 is not null and v_lo > v_step2 then
    return next v_cur_name;
  else
    return next v_prev_table;
    return next v_cur_name;
  end if;
  return;
end;
$$;
