-- pgq_ext.set_event_done(a_consumer, [a_subconsumer,] a_batch_id, a_event_id) → boolean:
-- record that the consumer applied one event, in the same transaction as its effect.
--
-- Marks are kept for one batch per consumer: the first mark of a new batch deletes those of
-- the previous one (that batch is finished on the queue side). This is why event tracking
-- does not mix with retried events, which come back in a later batch.
--
-- Parameters:
--   a_consumer     consumer name
--   a_subconsumer  subconsumer name; '' (the short form) for a plain consumer
--   a_batch_id     batch id from the queue database
--   a_event_id     event id (ev_id)
-- Result: false = already recorded (nothing changes); true = recorded.
-- Tables written: pgq_ext.partial_batch, pgq_ext.completed_event.
create or replace function pgq_ext.set_event_done(
  a_consumer text,
  a_subconsumer text,
  a_batch_id bigint,
  a_event_id bigint)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_cur_batch bigint;
  v_have_partial boolean;
begin
  -- The consumer's partial_batch row serializes its markers: the done-check below then sees
  -- what a session that held the lock before us committed.
  loop
    select p.cur_batch_id into v_cur_batch
      from pgq_ext.partial_batch p
     where p.consumer_id = a_consumer and p.subconsumer_id = a_subconsumer
       for update;
    v_have_partial := found;

    if pgq_ext.is_event_done(a_consumer, a_subconsumer, a_batch_id, a_event_id) then
      return false;
    end if;

    exit when v_have_partial;
    insert into pgq_ext.partial_batch (consumer_id, subconsumer_id, cur_batch_id)
      values (a_consumer, a_subconsumer, a_batch_id)
      on conflict (consumer_id, subconsumer_id) do nothing;
    if found then
      v_cur_batch := a_batch_id;
      exit;
    end if;
    -- Created by another session meanwhile: lock that row and check again.
  end loop;

  if v_cur_batch is distinct from a_batch_id then
    delete from pgq_ext.completed_event
     where consumer_id = a_consumer and subconsumer_id = a_subconsumer
       and batch_id = v_cur_batch;
    update pgq_ext.partial_batch
       set cur_batch_id = a_batch_id
     where consumer_id = a_consumer and subconsumer_id = a_subconsumer;
  end if;

  insert into pgq_ext.completed_event (consumer_id, subconsumer_id, batch_id, event_id)
    values (a_consumer, a_subconsumer, a_batch_id, a_event_id);
  return true;
end;
$$;

create or replace function pgq_ext.set_event_done(
  a_consumer text,
  a_batch_id bigint,
  a_event_id bigint)
returns boolean
language sql
as $$
  select pgq_ext.set_event_done(a_consumer, '', a_batch_id, a_event_id)
$$;
