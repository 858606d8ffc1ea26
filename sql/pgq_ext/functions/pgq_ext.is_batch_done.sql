-- pgq_ext.is_batch_done(a_consumer, [a_subconsumer,] a_batch_id) → boolean: was this batch the
-- last one the consumer recorded with pgq_ext.set_batch_done()?
--
-- Parameters:
--   a_consumer     consumer name
--   a_subconsumer  subconsumer name; '' (the short form) for a plain consumer
--   a_batch_id     batch id from the queue database
-- Result: true when the recorded last batch equals a_batch_id; false when another batch or none
--   is recorded.
-- Tables written: none.
create or replace function pgq_ext.is_batch_done(
  a_consumer text,
  a_subconsumer text,
  a_batch_id bigint)
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_last bigint;
begin
  select b.last_batch_id into v_last
    from pgq_ext.completed_batch b
   where b.consumer_id = a_consumer and b.subconsumer_id = a_subconsumer;
  if not found then
    return false;
  end if;
  return v_last = a_batch_id;
end;
$$;

create or replace function pgq_ext.is_batch_done(a_consumer text, a_batch_id bigint)
returns boolean
language sql
stable
as $$
  select pgq_ext.is_batch_done(a_consumer, '', a_batch_id)
$$;
