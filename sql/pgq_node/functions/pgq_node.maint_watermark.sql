-- pgq_node.maint_watermark(i_queue_name text) → int4
--
-- pgqd's part in publishing the global watermark (listed by pgq.maint_operations() for every
-- root): when the root's .global_watermark has not moved for 5 minutes or more - its worker
-- publishes it every 300 s, so it is not running - move it to the local watermark here.
--
-- Parameters: i_queue_name - cascaded queue.
-- Result: 0 (pgqd calls it once per round).
-- Tables written: as pgq_node.set_global_watermark, when the watermark lags.
create or replace function pgq_node.maint_watermark(i_queue_name text)
returns int4
language plpgsql
as $$
declare
  v_lag interval;
begin
  perform 1 from pgq_node.node_info n
    where n.queue_name = i_queue_name and n.node_type = 'root';
  if not found then
    return 0;
  end if;

  select now() - t.tick_time into v_lag
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.consumer c on c.co_id = s.sub_consumer
    join pgq.tick t on t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick
   where q.queue_name = i_queue_name and c.co_name = '.global_watermark';

  if v_lag >= interval '5 minutes' then
    perform pgq_node.set_global_watermark(i_queue_name, null);
  end if;
  return 0;
end;
$$;
