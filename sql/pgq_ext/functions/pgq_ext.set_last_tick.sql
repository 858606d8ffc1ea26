-- pgq_ext.set_last_tick(a_consumer, [a_subconsumer,] a_tick_id) → integer: record the last tick
-- a serial consumer applied, in the same transaction as its effects.
--
-- Parameters:
--   a_consumer     consumer name
--   a_subconsumer  subconsumer name; '' (the short form) for a plain consumer
--   a_tick_id      tick id; NULL forgets the position
-- Result: 1.
-- Tables written: pgq_ext.completed_tick.
create or replace function pgq_ext.set_last_tick(
  a_consumer text,
  a_subconsumer text,
  a_tick_id bigint)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if a_tick_id is null then
    delete from pgq_ext.completed_tick
     where consumer_id = a_consumer and subconsumer_id = a_subconsumer;
  else
    insert into pgq_ext.completed_tick (consumer_id, subconsumer_id, last_tick_id)
      values (a_consumer, a_subconsumer, a_tick_id)
      on conflict (consumer_id, subconsumer_id)
      do update set last_tick_id = excluded.last_tick_id;
  end if;
  return 1;
end;
$$;

create or replace function pgq_ext.set_last_tick(a_consumer text, a_tick_id bigint)
returns integer
language sql
as $$
  select pgq_ext.set_last_tick(a_consumer, '', a_tick_id)
$$;
