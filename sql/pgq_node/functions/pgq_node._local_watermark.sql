-- pgq_node._local_watermark(i_queue_name) → bigint  (internal)
--
-- The local watermark of a root or branch queue: the lowest position of any pgq consumer of
-- the local queue except .global_watermark (subscribers' workers and .<node>.watermark
-- included), or the queue's latest tick when nobody else reads it. NULL for a queue that does
-- not exist here (a leaf).
--
-- Tables written: none.
create or replace function pgq_node._local_watermark(i_queue_name text)
returns bigint
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select coalesce(
    (select min(s.sub_last_tick)
       from pgq.subscription s
       join pgq.queue q on q.queue_id = s.sub_queue
       join pgq.consumer c on c.co_id = s.sub_consumer
      where q.queue_name = i_queue_name and c.co_name <> '.global_watermark'),
    pgq_node._queue_top(i_queue_name))
$$;
