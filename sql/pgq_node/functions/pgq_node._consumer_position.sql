-- pgq_node._consumer_position(i_queue_name, i_consumer_name) → bigint  (internal)
--
-- Last tick of a pgq consumer on a local queue (e.g. .global_watermark or .<node>.watermark);
-- NULL when it is not registered.
--
-- Tables written: none.
create or replace function pgq_node._consumer_position(i_queue_name text, i_consumer_name text)
returns bigint
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select s.sub_last_tick
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.consumer c on c.co_id = s.sub_consumer
   where q.queue_name = i_queue_name and c.co_name = i_consumer_name
$$;
