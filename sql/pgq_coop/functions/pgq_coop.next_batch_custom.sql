-- pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name, i_min_lag,
-- i_min_count, i_min_interval [, i_dead_interval]) → bigint: the subconsumer's next batch.
--
-- Every member of a cooperative consumer shares the main consumer's position. A new batch is
-- opened for the main consumer (pgq.next_batch_custom with the given limits), closed on the
-- main row at once, so the position moves on and the next member gets the following batch,
-- and moved to the subconsumer's row, which from then on is what pgq.get_batch_events() and
-- pgq.event_retry() find by batch id. The main subscription row is locked first: members
-- asking at the same time take turns, and each batch goes to exactly one of them.
--
-- Parameters:
--   i_queue_name, i_consumer_name, i_subconsumer_name  the subconsumer (the main consumer
--       and the subconsumer are registered on first use)
--   i_min_lag, i_min_count, i_min_interval  as for pgq.next_batch_custom()
--   i_dead_interval  when the subconsumer has no batch, first take over the open batch of a
--       sibling whose last activity is older than this; that sibling's row is removed (it
--       registers again on its next call). NULL = never.
-- Result: batch id: the subconsumer's open batch again (until pgq_coop.finish_batch()), a
--   dead sibling's batch, or a new one; NULL when there is nothing to do yet.
-- Errors: 'main consumer has batch open?' (the main consumer was used with pgq.next_batch()
--   directly and its batch is not finished), 'subconsumer not found' (a consumer of that name
--   exists on the queue but does not share the main consumer's position), those of
--   pgq_coop.register_subconsumer() and pgq.next_batch_custom().
-- Tables written: pgq.subscription (main and subconsumer rows; a dead sibling's row is
--   deleted), through registration pgq.consumer; pgq.batch_id_seq.
create or replace function pgq_coop.next_batch_custom(
  i_queue_name text,
  i_consumer_name text,
  i_subconsumer_name text,
  i_min_lag interval,
  i_min_count int4,
  i_min_interval interval,
  i_dead_interval interval)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_subcon_name text := i_consumer_name || '.' || i_subconsumer_name;
  v_queue_id integer;
  v_main_id integer;
  v_group_id integer;
  v_main_batch bigint;
  v_subcon_id integer;
  v_subcon_group integer;
  v_batch_id bigint;
  v_registered boolean := false;
  v_dead record;
  v_new record;
begin
  loop
    select s.sub_queue, s.sub_consumer, s.sub_id, s.sub_batch
      into v_queue_id, v_main_id, v_group_id, v_main_batch
      from pgq.queue q
      join pgq.subscription s on s.sub_queue = q.queue_id
      join pgq.consumer c on c.co_id = s.sub_consumer
     where q.queue_name = i_queue_name
       and c.co_name = i_consumer_name
       for update of s;
    if found then
      select s.sub_consumer, s.sub_id, s.sub_batch into v_subcon_id, v_subcon_group, v_batch_id
        from pgq.subscription s
        join pgq.consumer c on c.co_id = s.sub_consumer
       where s.sub_queue = v_queue_id
         and c.co_name = v_subcon_name
         for update of s;
      exit when found;
    end if;
    if v_registered then
      raise exception 'subconsumer not found'
        using detail = format('queue: %s, consumer: %s, subconsumer: %s',
                              i_queue_name, i_consumer_name, i_subconsumer_name);
    end if;
    -- First use: register (main consumer too, when needed) and look again.
    perform pgq_coop.register_subconsumer(i_queue_name, i_consumer_name, i_subconsumer_name);
    v_registered := true;
  end loop;

  if v_subcon_group is distinct from v_group_id then
    raise exception 'subconsumer not found'
      using detail = format('consumer %s on queue %s is not a subconsumer of %s',
                            v_subcon_name, i_queue_name, i_consumer_name),
            hint = 'it was registered as a plain consumer; unregister it with pgq.unregister_consumer()';
  end if;
  if v_main_batch is not null then
    raise exception 'main consumer has batch open?'
      using detail = format('queue: %s, consumer: %s, batch: %s',
                            i_queue_name, i_consumer_name, v_main_batch),
            hint = 'finish it with pgq.finish_batch(); cooperative members must not use pgq.next_batch()';
  end if;

  if v_batch_id is not null then
    -- Not finished yet: the same batch again, and the subconsumer shows it is alive.
    update pgq.subscription
       set sub_active = now()
     where sub_queue = v_queue_id and sub_consumer = v_subcon_id;
    return v_batch_id;
  end if;

  if i_dead_interval is not null then
    -- A sibling row locked right now is busy (its owner finishing the batch, or unregistering):
    -- skip it rather than wait, which could deadlock with that owner asking for the main row.
    select s.sub_consumer, s.sub_batch, s.sub_last_tick, s.sub_next_tick into v_dead
      from pgq.subscription s
     where s.sub_queue = v_queue_id
       and s.sub_id = v_group_id
       and s.sub_consumer <> v_main_id
       and s.sub_consumer <> v_subcon_id
       and s.sub_batch is not null
       and s.sub_active < now() - i_dead_interval
     order by s.sub_active
     limit 1
       for update of s skip locked;
    if found then
      delete from pgq.subscription
       where sub_queue = v_queue_id and sub_consumer = v_dead.sub_consumer;
      update pgq.subscription
         set sub_batch = v_dead.sub_batch,
             sub_last_tick = v_dead.sub_last_tick,
             sub_next_tick = v_dead.sub_next_tick,
             sub_active = now()
       where sub_queue = v_queue_id and sub_consumer = v_subcon_id;
      return v_dead.sub_batch;
    end if;
  end if;

  select n.batch_id, n.cur_tick_id, n.prev_tick_id into v_new
    from pgq.next_batch_custom(i_queue_name, i_consumer_name, i_min_lag, i_min_count,
                               i_min_interval) n;
  if v_new.batch_id is null then
    return null;
  end if;

  -- Close it on the main row (its position moves to the batch end), then give it to the
  -- subconsumer; in this order, since a batch id belongs to one row at a time.
  update pgq.subscription
     set sub_batch = null,
         sub_last_tick = sub_next_tick,
         sub_next_tick = null,
         sub_active = now()
   where sub_queue = v_queue_id and sub_consumer = v_main_id;
  update pgq.subscription
     set sub_batch = v_new.batch_id,
         sub_last_tick = v_new.prev_tick_id,
         sub_next_tick = v_new.cur_tick_id,
         sub_active = now()
   where sub_queue = v_queue_id and sub_consumer = v_subcon_id;
  return v_new.batch_id;
end;
$$;

create or replace function pgq_coop.next_batch_custom(
  i_queue_name text,
  i_consumer_name text,
  i_subconsumer_name text,
  i_min_lag interval,
  i_min_count int4,
  i_min_interval interval)
returns bigint
language sql
security definer
set search_path = pg_catalog, pg_temp
as $$
  select pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name,
                                    i_min_lag, i_min_count, i_min_interval, null)
$$;
