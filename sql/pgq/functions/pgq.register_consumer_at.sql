-- pgq.register_consumer_at(x_queue_name, x_consumer_name, x_tick_pos): subscribe a consumer to a
-- queue at a given tick, or move an existing subscription there.
--
-- Parameters:
--   x_queue_name     queue name
--   x_consumer_name  consumer name (created in pgq.consumer when new)
--   x_tick_pos       tick to start after; NULL = the queue's latest tick (new registrations only)
-- Result: 1 = newly registered; 0 = already registered (if x_tick_pos is given, the consumer is
--   repositioned there and its open batch, if any, is dropped).
-- Errors: 'Event queue not created yet', 'cannot reposition, tick not found: %',
--   'No ticks for this queue.  Please run ticker on database.', 'Invalid NULL value'.
-- Writes: pgq.consumer, pgq.subscription.
create or replace function pgq.register_consumer_at(
  x_queue_name text,
  x_consumer_name text,
  x_tick_pos bigint)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue_id integer;
  v_consumer_id integer;
  v_tick bigint;
  v_attempt integer := 0;
begin
  select q.queue_id into v_queue_id
    from pgq.queue q
   where q.queue_name = x_queue_name;
  if not found then
    raise exception 'Event queue not created yet'
      using detail = format('queue: %s', coalesce(x_queue_name, '<NULL>')),
            hint = 'create it with pgq.create_queue()';
  end if;
  if x_consumer_name is null then
    raise exception 'Invalid NULL value'
      using detail = 'consumer name must not be NULL';
  end if;

  if x_tick_pos is not null then
    perform 1 from pgq.tick t
      where t.tick_queue = v_queue_id and t.tick_id = x_tick_pos;
    if not found then
      raise exception 'cannot reposition, tick not found: %', x_tick_pos
        using detail = format('queue: %s, consumer: %s', x_queue_name, x_consumer_name);
    end if;
  end if;

  -- The consumer name row (looked up first so that existing names use no serial value). A
  -- concurrent unregister may delete it under us: the key-share lock makes the read wait for
  -- such a delete, and the loop then creates the row again.
  loop
    v_attempt := v_attempt + 1;
    select c.co_id into v_consumer_id
      from pgq.consumer c
     where c.co_name = x_consumer_name
       for key share;
    exit when v_consumer_id is not null;
    insert into pgq.consumer (co_name) values (x_consumer_name)
      on conflict (co_name) do nothing
      returning co_id into v_consumer_id;
    exit when v_consumer_id is not null;
    if v_attempt >= 10 then
      raise exception 'could not register consumer %: its name row keeps disappearing',
        x_consumer_name;
    end if;
  end loop;

  -- Already registered?
  perform 1 from pgq.subscription s
    where s.sub_queue = v_queue_id and s.sub_consumer = v_consumer_id
      for update;
  if found then
    if x_tick_pos is not null then
      update pgq.subscription
         set sub_last_tick = x_tick_pos,
             sub_batch = null,
             sub_next_tick = null,
             sub_active = now()
       where sub_queue = v_queue_id and sub_consumer = v_consumer_id;
    end if;
    return 0;
  end if;

  v_tick := x_tick_pos;
  if v_tick is null then
    select t.tick_id into v_tick
      from pgq.tick t
     where t.tick_queue = v_queue_id
     order by t.tick_queue desc, t.tick_id desc
     limit 1;
    if not found then
      raise exception 'No ticks for this queue.  Please run ticker on database.'
        using detail = format('queue: %s', x_queue_name),
              hint = 'run pgq.ticker() or start pgqd';
    end if;
  end if;

  insert into pgq.subscription (sub_queue, sub_consumer, sub_last_tick)
    values (v_queue_id, v_consumer_id, v_tick)
    on conflict (sub_queue, sub_consumer) do nothing;
  if found then
    return 1;
  end if;

  -- Registered concurrently by another session: behave as "already registered".
  if x_tick_pos is not null then
    update pgq.subscription
       set sub_last_tick = x_tick_pos,
           sub_batch = null,
           sub_next_tick = null,
           sub_active = now()
     where sub_queue = v_queue_id and sub_consumer = v_consumer_id;
  end if;
  return 0;
end;
$$;
