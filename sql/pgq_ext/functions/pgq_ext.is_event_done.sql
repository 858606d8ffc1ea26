-- pgq_ext.is_event_done(a_consumer, [a_subconsumer,] a_batch_id, a_event_id) → boolean: was
-- this event of this batch recorded with pgq_ext.set_event_done()?
--
-- Parameters:
--   a_consumer     consumer name
--   a_subconsumer  subconsumer name; '' (the short form) for a plain consumer
--   a_batch_id     batch id from the queue database
--   a_event_id     event id (ev_id)
-- Result: true when recorded.
-- Tables written: none.
create or replace function pgq_ext.is_event_done(
  a_consumer text,
  a_subconsumer text,
  a_batch_id bigint,
  a_event_id bigint)
returns boolean
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select exists (
    select 1
      from pgq_ext.completed_event e
     where e.consumer_id = a_consumer
       and e.subconsumer_id = a_subconsumer
       and e.batch_id = a_batch_id
       and e.event_id = a_event_id)
$$;

create or replace function pgq_ext.is_event_done(
  a_consumer text,
  a_batch_id bigint,
  a_event_id bigint)
returns boolean
language sql
stable
as $$
  select pgq_ext.is_event_done(a_consumer, '', a_batch_id, a_event_id)
$$;
