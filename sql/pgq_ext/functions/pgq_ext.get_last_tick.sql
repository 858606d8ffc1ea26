-- pgq_ext.get_last_tick(a_consumer [, a_subconsumer]) → int8: the last tick a serial consumer
-- recorded with pgq_ext.set_last_tick().
--
-- Parameters:
--   a_consumer     consumer name
--   a_subconsumer  subconsumer name; '' (the short form) for a plain consumer
-- Result: the tick id, or NULL when none is recorded.
-- Tables written: none.
create or replace function pgq_ext.get_last_tick(a_consumer text, a_subconsumer text)
returns int8
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
  select t.last_tick_id
    from pgq_ext.completed_tick t
   where t.consumer_id = a_consumer and t.subconsumer_id = a_subconsumer
$$;

create or replace function pgq_ext.get_last_tick(a_consumer text)
returns int8
language sql
stable
as $$
  select pgq_ext.get_last_tick(a_consumer, '')
$$;
