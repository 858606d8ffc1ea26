-- pgq_coop.finish_batch(i_batch_id) → integer: close a subconsumer's batch.
--
-- The main consumer's position moved past the batch when the batch was handed out, so the
-- subconsumer row only goes back to idle: no batch, no ticks.
--
-- Parameters: i_batch_id: a batch handed out by pgq_coop.next_batch*().
-- Result: 1 = finished; 0 = no open batch with that id (with WARNING
--   'coop_finish_batch: batch % not found').
-- Tables written: pgq.subscription (the subconsumer's row).
create or replace function pgq_coop.finish_batch(i_batch_id bigint)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update pgq.subscription
     set sub_active = now(),
         sub_last_tick = null,
         sub_next_tick = null,
         sub_batch = null
   where sub_batch = i_batch_id;
  if not found then
    raise warning 'coop_finish_batch: batch % not found', i_batch_id;
    return 0;
  end if;
  return 1;
end;
$$;
