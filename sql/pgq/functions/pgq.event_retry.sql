-- pgq.event_retry(x_batch_id, x_event_id, x_retry_time | x_retry_seconds): put one event of a
-- batch into the retry queue of the batch's subscription. pgq.maint_retry_events() puts it back
-- into the queue, for this consumer only, once it is due.
--
-- Parameters:
--   x_batch_id       the open batch holding the event
--   x_event_id       ev_id of the event
--   x_retry_time     when the event is due again (timestamptz form)
--   x_retry_seconds  seconds from now until it is due again (integer form)
-- Result: 1 = queued for retry (ev_retry + 1), 0 = already in the retry queue.
-- Errors: 'batch not found', 'event not found'.
-- Writes: pgq.retry_queue.
create or replace function pgq.event_retry(
  x_batch_id bigint,
  x_event_id bigint,
  x_retry_time timestamptz)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_sub_id integer;
  v_queue_id integer;
  v_sql text;
  v_ev record;
  v_done integer;
begin
  select s.sub_id, s.sub_queue into v_sub_id, v_queue_id
    from pgq.subscription s
   where s.sub_batch = x_batch_id;
  if not found then
    raise exception 'batch not found'
      using detail = format('batch id: %s', coalesce(x_batch_id::text, '<NULL>'));
  end if;

  perform 1 from pgq.retry_queue r
    where r.ev_owner = v_sub_id and r.ev_id = x_event_id;
  if found then
    return 0;
  end if;

  v_sql := pgq.batch_event_sql(x_batch_id);
  v_sql := 'select e.* from ('
    || left(v_sql, length(v_sql) - length(E'\norder by 1'))
    || E'\n) e where e.ev_id = $1 limit 1';
  execute v_sql into v_ev using x_event_id;
  get diagnostics v_done = row_count;
  if v_done = 0 then
    raise exception 'event not found'
      using detail = format('batch id: %s, event id: %s', x_batch_id,
                            coalesce(x_event_id::text, '<NULL>'));
  end if;

  insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid, ev_owner,
                               ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3,
                               ev_extra4)
  values (x_retry_time, v_queue_id, v_ev.ev_id, v_ev.ev_time, null, v_sub_id,
          coalesce(v_ev.ev_retry, 0) + 1, v_ev.ev_type, v_ev.ev_data, v_ev.ev_extra1,
          v_ev.ev_extra2, v_ev.ev_extra3, v_ev.ev_extra4)
  on conflict (ev_owner, ev_id) do nothing;
  get diagnostics v_done = row_count;
  return v_done;
end;
$$;

create or replace function pgq.event_retry(
  x_batch_id bigint,
  x_event_id bigint,
  x_retry_seconds integer)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return pgq.event_retry(x_batch_id, x_event_id,
                         now() + x_retry_seconds * interval '1 second');
end;
$$;
