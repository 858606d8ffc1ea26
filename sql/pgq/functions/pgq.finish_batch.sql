-- pgq.finish_batch(x_batch_id): close a batch; the consumer's position moves to its end tick.
--
-- Parameters: x_batch_id: the open batch.
-- Result: 1 = finished; 0 = no such open batch (with WARNING 'finish_batch: batch % not found').
-- Writes: pgq.subscription (sub_last_tick, sub_next_tick, sub_batch, sub_active).
create or replace function pgq.finish_batch(x_batch_id bigint)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update pgq.subscription
     set sub_active = now(),
         sub_last_tick = sub_next_tick,
         sub_next_tick = null,
         sub_batch = null
   where sub_batch = x_batch_id;
  if not found then
    raise warning 'finish_batch: batch % not found', x_batch_id;
    return 0;
  end if;
  return 1;
end;
$$;
