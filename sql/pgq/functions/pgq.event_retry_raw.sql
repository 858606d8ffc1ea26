-- pgq.event_retry_raw(x_queue, x_consumer, x_retry_after, x_ev_id, x_ev_time, x_ev_retry,
-- x_ev_type, x_ev_data, x_ev_extra1..4): put an arbitrary event into a consumer's retry queue.
--
-- Parameters:
--   x_queue, x_consumer   the subscription that will get the event
--   x_retry_after         when pgq.maint_retry_events() may put it into the queue
--   x_ev_id               event id; NULL = next value of the queue's event sequence
--   x_ev_time             event time; NULL = now()
--   x_ev_retry            retry count to store
--   x_ev_type, x_ev_data, x_ev_extra1..4   event fields
-- Result: the event id.
-- Errors: 'consumer not registered'.
-- Writes: pgq.retry_queue; the queue's event sequence when x_ev_id is NULL.
create or replace function pgq.event_retry_raw(
  x_queue text,
  x_consumer text,
  x_retry_after timestamptz,
  x_ev_id bigint,
  x_ev_time timestamptz,
  x_ev_retry integer,
  x_ev_type text,
  x_ev_data text,
  x_ev_extra1 text,
  x_ev_extra2 text,
  x_ev_extra3 text,
  x_ev_extra4 text)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_sub_id integer;
  v_queue_id integer;
  v_event_seq text;
  v_ev_id bigint;
begin
  select s.sub_id, q.queue_id, q.queue_event_seq
    into v_sub_id, v_queue_id, v_event_seq
    from pgq.queue q
    join pgq.subscription s on s.sub_queue = q.queue_id
    join pgq.consumer c on c.co_id = s.sub_consumer
   where q.queue_name = x_queue
     and c.co_name = x_consumer;
  if not found then
    raise exception 'consumer not registered'
      using detail = format('queue: %s, consumer: %s', coalesce(x_queue, '<NULL>'),
                            coalesce(x_consumer, '<NULL>'));
  end if;

  v_ev_id := x_ev_id;
  if v_ev_id is null then
    v_ev_id := nextval(v_event_seq::regclass);
  end if;

  insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_owner, ev_retry,
                               ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)
  values (x_retry_after, v_queue_id, v_ev_id, coalesce(x_ev_time, now()), v_sub_id, x_ev_retry,
          x_ev_type, x_ev_data, x_ev_extra1, x_ev_extra2, x_ev_extra3, x_ev_extra4);
  return v_ev_id;
end;
$$;
