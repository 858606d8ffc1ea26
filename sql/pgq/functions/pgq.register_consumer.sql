-- pgq.register_consumer(x_queue_name, x_consumer_id): subscribe a consumer to a queue at the
-- queue's latest tick.
--
-- Parameters:
--   x_queue_name   queue name
--   x_consumer_id  consumer name (created in pgq.consumer when new)
-- Result: 1 = newly registered, 0 = was already registered (position unchanged).
-- Writes: pgq.consumer, pgq.subscription (through pgq.register_consumer_at).
create or replace function pgq.register_consumer(x_queue_name text, x_consumer_id text)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return pgq.register_consumer_at(x_queue_name, x_consumer_id, null);
end;
$$;
