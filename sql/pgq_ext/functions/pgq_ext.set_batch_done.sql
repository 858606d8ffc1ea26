-- pgq_ext.set_batch_done(a_consumer, [a_subconsumer,] a_batch_id) → boolean: record that the
-- consumer applied this batch, in the same transaction as the batch's effects.
--
-- The consumer's row is locked first, so of two sessions recording the same batch at once the
-- second waits and then gets false: it must roll back instead of applying the batch again.
--
-- Parameters:
--   a_consumer     consumer name
--   a_subconsumer  subconsumer name; '' (the short form) for a plain consumer
--   a_batch_id     batch id; only ids > 0 are recorded
-- Result: false = this batch was already the recorded one (nothing changes); true = recorded
--   (or, for an id <= 0, nothing to record).
-- Tables written: pgq_ext.completed_batch.
create or replace function pgq_ext.set_batch_done(
  a_consumer text,
  a_subconsumer text,
  a_batch_id bigint)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_last bigint;
begin
  loop
    select b.last_batch_id into v_last
      from pgq_ext.completed_batch b
     where b.consumer_id = a_consumer and b.subconsumer_id = a_subconsumer
       for update;
    if found then
      if v_last = a_batch_id then
        return false;
      end if;
      if a_batch_id > 0 then
        update pgq_ext.completed_batch
           set last_batch_id = a_batch_id
         where consumer_id = a_consumer and subconsumer_id = a_subconsumer;
      end if;
      return true;
    end if;
    if a_batch_id is null or a_batch_id <= 0 then
      return true;
    end if;
    insert into pgq_ext.completed_batch (consumer_id, subconsumer_id, last_batch_id)
      values (a_consumer, a_subconsumer, a_batch_id)
      on conflict (consumer_id, subconsumer_id) do nothing;
    if found then
      return true;
    end if;
    -- Another session recorded a batch for this consumer meanwhile: compare with that one.
  end loop;
end;
$$;

create or replace function pgq_ext.set_batch_done(a_consumer text, a_batch_id bigint)
returns boolean
language sql
as $$
  select pgq_ext.set_batch_done(a_consumer, '', a_batch_id)
$$;
