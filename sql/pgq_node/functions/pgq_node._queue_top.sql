-- pgq_node._queue_top(i_queue_name) → bigint  (internal)
--
-- The latest tick id of a local pgq queue; NULL when the queue does not exist here.
--
-- Tables written: none.
create or replace function pgq_node._queue_top(i_queue_name text)
returns bigint
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select t.tick_id
    from pgq.tick t
   where t.tick_queue = (select q.queue_id from pgq.queue q where q.queue_name = i_queue_name)
   order by t.tick_queue desc, t.tick_id desc
   limit 1
$$;
