-- pgq.batch_retry(i_batch_id, i_retry_seconds): put every event of a batch into the retry queue
-- of the batch's subscription (events already there are left alone).
--
-- Parameters:
--   i_batch_id         an open batch
--   i_retry_seconds    seconds from now until the events are due again
-- Result: number of events queued for retry.
-- Errors: 'batch_retry: batch % not found'.
-- Writes: pgq.retry_queue.
create or replace function pgq.batch_retry(i_batch_id bigint, i_retry_seconds integer)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_sub_id integer;
  v_queue_id integer;
  v_sql text;
  v_count integer;
begin
  select s.sub_id, s.sub_queue into v_sub_id, v_queue_id
    from pgq.subscription s
   where s.sub_batch = i_batch_id;
  if not found then
    raise exception 'batch_retry: batch % not found', i_batch_id;
  end if;

  v_sql := pgq.batch_event_sql(i_batch_id);
  v_sql := 'insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_txid,'
    || ' ev_owner, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
    || ' select $1, $2, e.ev_id, e.ev_time, null, $3, coalesce(e.ev_retry, 0) + 1, e.ev_type,'
    || ' e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4 from ('
    || left(v_sql, length(v_sql) - length(E'\norder by 1'))
    || E'\n) e where not exists (select 1 from pgq.retry_queue r'
    || ' where r.ev_owner = $3 and r.ev_id = e.ev_id)'
    || ' on conflict (ev_owner, ev_id) do nothing';
  execute v_sql using now() + i_retry_seconds * interval '1 second', v_queue_id, v_sub_id;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
