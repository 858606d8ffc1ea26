-- pgq.unregister_consumer(x_queue_name, x_consumer_name): remove a consumer's subscription.
--
-- Parameters:
--   x_queue_name     queue name
--   x_consumer_name  consumer name (a main consumer or a cooperative subconsumer)
-- Result: number of subscription rows removed; 0 when the consumer is not registered on the
--   queue (or the queue does not exist).
--   A cooperative subconsumer row (it shares its sub_id with siblings and has either no ticks or
--   both ticks set) is removed alone: 1. A main consumer takes its retry events and every
--   subconsumer sharing its sub_id with it.
--   Consumer name rows that no subscription uses any more are deleted.
-- Writes: pgq.subscription, pgq.retry_queue, pgq.consumer.
create or replace function pgq.unregister_consumer(x_queue_name text, x_consumer_name text)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_sub_id integer;
  v_queue_id integer;
  v_consumer_id integer;
  v_last_tick bigint;
  v_next_tick bigint;
  v_group_size integer;
  v_consumers integer[];
  v_count integer;
begin
  select s.sub_id, s.sub_queue, s.sub_consumer, s.sub_last_tick, s.sub_next_tick
    into v_sub_id, v_queue_id, v_consumer_id, v_last_tick, v_next_tick
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.consumer c on c.co_id = s.sub_consumer
   where q.queue_name = x_queue_name
     and c.co_name = x_consumer_name
     for update of s;
  if not found then
    return 0;
  end if;

  -- Lock the whole group (main consumer and its subconsumers) and count it.
  select count(*) into v_group_size
    from (select 1
            from pgq.subscription s
           where s.sub_queue = v_queue_id and s.sub_id = v_sub_id
             for update) grp;

  if v_group_size > 1
     and ((v_last_tick is null and v_next_tick is null)
          or (v_last_tick is not null and v_next_tick is not null)) then
    -- A subconsumer: only its own row goes; the group's retry events stay.
    delete from pgq.subscription s
     where s.sub_queue = v_queue_id and s.sub_consumer = v_consumer_id;
    v_consumers := array[v_consumer_id];
    v_count := 1;
  else
    delete from pgq.retry_queue r
     where r.ev_owner = v_sub_id and r.ev_queue = v_queue_id;
    with gone as (
      delete from pgq.subscription s
       where s.sub_queue = v_queue_id and s.sub_id = v_sub_id
      returning s.sub_consumer
    )
    select array_agg(g.sub_consumer), count(*) into v_consumers, v_count from gone g;
  end if;

  -- Forget consumer names nobody uses any more. A concurrent registration of the same name on
  -- another queue keeps it alive (the foreign key then refuses the delete: keep the row).
  begin
    delete from pgq.consumer c
     where c.co_id = any (v_consumers)
       and not exists (select 1 from pgq.subscription s where s.sub_consumer = c.co_id);
  exception when foreign_key_violation then
    null;
  end;

  return v_count;
end;
$$;
