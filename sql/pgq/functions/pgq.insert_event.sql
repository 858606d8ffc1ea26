-- pgq.insert_event: produce one event into a queue, as part of the calling transaction
-- (it is rolled back with it).
--
-- pgq.insert_event(queue_name text, ev_type text, ev_data text) → bigint
--   The 7-argument form with the extra fields NULL.
-- pgq.insert_event(queue_name text, ev_type text, ev_data text, ev_extra1 text,
--                  ev_extra2 text, ev_extra3 text, ev_extra4 text) → bigint
--   Insert with ev_time = now() through pgq.insert_event_raw (errors: `Queue name must not
--   be NULL`, `No such queue`, `Insert into queue disallowed`, per-transaction limit).
--
-- Result: the new event's id.
-- Tables written: the queue's current data table pgq.event_N_<cur>.
create or replace function pgq.insert_event(
  queue_name text, ev_type text, ev_data text,
  ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return pgq.insert_event_raw(queue_name, null, now(), null, null, ev_type, ev_data,
                              ev_extra1, ev_extra2, ev_extra3, ev_extra4);
end;
$$;

create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return pgq.insert_event(queue_name, ev_type, ev_data, null, null, null, null);
end;
$$;
