-- pgq.drop_queue: remove a queue and everything it owns.
--
-- pgq.drop_queue(x_queue_name text, x_force bool) → integer
--   Drops the data tables pgq.event_N_<i>, their parent pgq.event_N, the queue's ticks, its
--   two sequences and its pgq.queue row. With consumers registered it refuses, unless
--   x_force: then every consumer is unregistered first (subscriptions and their retry
--   events deleted, consumer names no longer used by any queue removed).
-- pgq.drop_queue(x_queue_name text) → integer
--   The same with x_force = false.
--
-- Result: 1.
-- Tables written: pgq.queue, pgq.tick, pgq.subscription, pgq.consumer, pgq.retry_queue;
-- drops the per-queue tables and sequences.
create or replace function pgq.drop_queue(x_queue_name text, x_force bool)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue record;
  v_consumers integer;
  i integer;
begin
  select queue_id, queue_data_pfx, queue_ntables, queue_event_seq, queue_tick_seq
    into v_queue
    from pgq.queue
   where queue_name = x_queue_name
     for update;
  if not found then
    raise exception 'No such event queue'
      using detail = format('queue: %s', x_queue_name);
  end if;

  select count(*) into v_consumers from pgq.subscription where sub_queue = v_queue.queue_id;
  if v_consumers > 0 then
    if not coalesce(x_force, false) then
      raise exception 'cannot drop queue, consumers still attached'
        using detail = format('queue: %s, consumers: %s', x_queue_name, v_consumers),
              hint = 'unregister them first, or use pgq.drop_queue(queue, true)';
    end if;
    -- Unregister everyone: their retry events, subscriptions, and unused consumer names.
    delete from pgq.retry_queue where ev_queue = v_queue.queue_id;
    with gone as (
      delete from pgq.subscription
       where sub_queue = v_queue.queue_id
      returning sub_consumer
    )
    delete from pgq.consumer c
     where c.co_id in (select sub_consumer from gone)
       and not exists (select 1 from pgq.subscription s
                        where s.sub_consumer = c.co_id
                          and s.sub_queue <> v_queue.queue_id);
  end if;
  -- Retry rows can only belong to subscriptions, but never let one block the drop.
  delete from pgq.retry_queue where ev_queue = v_queue.queue_id;

  for i in 0 .. v_queue.queue_ntables - 1 loop
    execute format('drop table %s', pgq.quote_fqname(v_queue.queue_data_pfx || '_' || i::text));
  end loop;
  execute format('drop table %s', pgq.quote_fqname(v_queue.queue_data_pfx));

  delete from pgq.tick where tick_queue = v_queue.queue_id;

  execute format('drop sequence %s', pgq.quote_fqname(v_queue.queue_tick_seq));
  execute format('drop sequence %s', pgq.quote_fqname(v_queue.queue_event_seq));

  delete from pgq.queue where queue_id = v_queue.queue_id;
  perform pgq._generate_insert_functions();
  return 1;
end;
$$;

create or replace function pgq.drop_queue(x_queue_name text)
returns integer
language plpgsql
strict
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return pgq.drop_queue(x_queue_name, false);
end;
$$;
