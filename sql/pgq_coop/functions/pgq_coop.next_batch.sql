-- pgq_coop.next_batch(i_queue_name, i_consumer_name, i_subconsumer_name [, i_dead_interval])
-- → bigint: the subconsumer's next batch, as pgq_coop.next_batch_custom() with no lag, count
-- or interval limits.
--
-- Parameters:
--   i_queue_name, i_consumer_name, i_subconsumer_name  the subconsumer
--   i_dead_interval  take over the open batch of a sibling inactive for longer (NULL = never)
-- Result: batch id, or NULL when there is nothing to do yet.
-- Errors and tables written: those of pgq_coop.next_batch_custom().
create or replace function pgq_coop.next_batch(
  i_queue_name text,
  i_consumer_name text,
  i_subconsumer_name text)
returns bigint
language sql
security definer
set search_path = pg_catalog, pg_temp
as $$
  select pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name,
                                    null, null, null, null)
$$;

create or replace function pgq_coop.next_batch(
  i_queue_name text,
  i_consumer_name text,
  i_subconsumer_name text,
  i_dead_interval interval)
returns bigint
language sql
security definer
set search_path = pg_catalog, pg_temp
as $$
  select pgq_coop.next_batch_custom(i_queue_name, i_consumer_name, i_subconsumer_name,
                                    null, null, null, i_dead_interval)
$$;
