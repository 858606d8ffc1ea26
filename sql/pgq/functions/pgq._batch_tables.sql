-- pgq._batch_tables(i_data_pfx, i_cur_table, i_ntables, i_switch_step1, i_switch_step2,
--                   i_start_xmin, i_end_xmax) → text[]
--
-- Which data tables may hold a batch's events, from the queue's table-switch state and the
-- batch's txid span (the xmin of its start tick's snapshot to the xmax of its end tick's):
--   * end xmax below queue_switch_step1: every transaction of the batch committed before the
--     last table switch began, so only the table before the current one;
--   * queue_switch_step2 set and start xmin above it: every transaction of the batch began
--     after the switch was complete, so only the current table;
--   * otherwise both, the previous table first.
-- Shared by pgq.batch_event_tables and pgq.batch_event_sql. Result: unquoted names such as
-- 'pgq.event_1_0'. Writes: nothing.
create or replace function pgq._batch_tables(
  i_data_pfx text, i_cur_table integer, i_ntables integer, i_switch_step1 bigint,
  i_switch_step2 bigint, i_start_xmin bigint, i_end_xmax bigint)
returns text[]
language sql
immutable
as $$
  select case
           when i_end_xmax < i_switch_step1 then array[prev]
           when i_switch_step2 is not null and i_start_xmin > i_switch_step2 then array[cur]
           else array[prev, cur]
         end
    from (select i_data_pfx || '_' || ((i_cur_table + i_ntables - 1) % i_ntables)::text as prev,
                 i_data_pfx || '_' || i_cur_table::text as cur) t
$$;
