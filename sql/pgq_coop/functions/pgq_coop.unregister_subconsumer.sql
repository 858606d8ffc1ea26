-- pgq_coop.unregister_subconsumer(i_queue_name, i_consumer_name, i_subconsumer_name,
-- i_batch_handling) → integer: remove one subconsumer; the main consumer and its siblings stay.
--
-- Parameters:
--   i_queue_name        queue name
--   i_consumer_name     main consumer name
--   i_subconsumer_name  subconsumer name
--   i_batch_handling    what to do when the subconsumer holds an open batch: 1 = drop the
--                       batch (the main position is already past it, so its events are not
--                       handed out again); any other value refuses
-- Result: 1 = removed; 0 = no such subconsumer on the queue.
-- Errors: 'subconsumer has active batch' (nothing is changed).
-- Tables written: pgq.subscription, pgq.consumer (a name no subscription uses any more).
create or replace function pgq_coop.unregister_subconsumer(
  i_queue_name text,
  i_consumer_name text,
  i_subconsumer_name text,
  i_batch_handling integer)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_queue_id integer;
  v_subcon_id integer;
  v_batch_id bigint;
begin
  select s.sub_queue, s.sub_consumer, s.sub_batch into v_queue_id, v_subcon_id, v_batch_id
    from pgq.queue q
    join pgq.subscription s on s.sub_queue = q.queue_id
    join pgq.consumer c on c.co_id = s.sub_consumer
   where q.queue_name = i_queue_name
     and c.co_name = i_consumer_name || '.' || i_subconsumer_name
     for update of s;
  if not found then
    return 0;
  end if;

  if v_batch_id is not null and i_batch_handling is distinct from 1 then
    raise exception 'subconsumer has active batch'
      using detail = format('queue: %s, consumer: %s, subconsumer: %s, batch: %s',
                            i_queue_name, i_consumer_name, i_subconsumer_name, v_batch_id),
            hint = 'finish the batch first, or pass i_batch_handling = 1 to drop it';
  end if;

  delete from pgq.subscription s
   where s.sub_queue = v_queue_id and s.sub_consumer = v_subcon_id;

  -- Forget the name when nothing uses it any more, as pgq.unregister_consumer does. A
  -- concurrent registration of the same name keeps the row (the foreign key refuses).
  begin
    delete from pgq.consumer c
     where c.co_id = v_subcon_id
       and not exists (select 1 from pgq.subscription s where s.sub_consumer = c.co_id);
  exception when foreign_key_violation then
    null;
  end;
  return 1;
end;
$$;
