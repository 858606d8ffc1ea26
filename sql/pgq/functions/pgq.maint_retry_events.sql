-- pgq.maint_retry_events(): put due retry events back into their queues.
--
-- Parameters: none.
-- Result: number of events moved (at most 10 per call); callers repeat until it returns 0.
--   Each event goes into its queue's current table through pgq.insert_event_raw() with its
--   ev_id, ev_time, retry count and owner (so only that subscription sees it again).
--   A SHARE UPDATE EXCLUSIVE lock on pgq.retry_queue keeps two of these from running at once
--   while consumers can still add retry events.
-- Writes: pgq.retry_queue (delete), the queues' event tables (insert).
create or replace function pgq.maint_retry_events()
returns integer
language plpgsql
as $$
declare
  v_ev record;
  v_count integer := 0;
begin
  lock table pgq.retry_queue in share update exclusive mode;

  for v_ev in
    select r.ev_owner, r.ev_id, r.ev_time, r.ev_retry, r.ev_type, r.ev_data,
           r.ev_extra1, r.ev_extra2, r.ev_extra3, r.ev_extra4, q.queue_name
      from pgq.retry_queue r
      join pgq.queue q on q.queue_id = r.ev_queue
     where r.ev_retry_after <= now()
     order by r.ev_retry_after
     limit 10
  loop
    perform pgq.insert_event_raw(v_ev.queue_name, v_ev.ev_id, v_ev.ev_time, v_ev.ev_owner,
                                 v_ev.ev_retry, v_ev.ev_type, v_ev.ev_data, v_ev.ev_extra1,
                                 v_ev.ev_extra2, v_ev.ev_extra3, v_ev.ev_extra4);
    delete from pgq.retry_queue r
     where r.ev_owner = v_ev.ev_owner and r.ev_id = v_ev.ev_id;
    v_count := v_count + 1;
  end loop;
  return v_count;
end;
$$;
