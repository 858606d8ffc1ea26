-- pgq.insert_event and pgq.insert_event_raw: produce one event into a queue, as part of the
-- calling transaction (it is rolled back with it).
--
-- pgq.insert_event(queue_name text, ev_type text, ev_data text,
--                  ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text) → bigint
--   SECURITY DEFINER. Insert with ev_time = now(); returns the new event's id.
-- pgq.insert_event_raw(queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer,
--   ev_retry integer, ev_type text, ev_data text, ev_extra1 text, ev_extra2 text,
--   ev_extra3 text, ev_extra4 text) → bigint
--   The raw form: ev_id NULL = take the next id, ev_time NULL = now(), ev_owner/ev_retry for
--   retried events. Every call takes nextval of the queue's event sequence, even when ev_id
--   is given: that is how the ticker sees new events.
-- Errors (from pgq._insert_target): `Queue name must not be NULL`, `No such queue`,
-- `Insert into queue disallowed`, `Queue '<name>' allows max <n> events from one TX`.
-- Tables written: the queue's current data table pgq.event_N_<cur>; its event sequence.
--
-- Both are generated with a static INSERT per queue table by pgq._generate_insert_functions,
-- which create_queue and drop_queue call again, and the installer at its end
-- (structure/upgrade.sql), once every helper they call is in place.

-- pgq.insert_event(queue_name text, ev_type text, ev_data text) → bigint
--   The 7-argument form with the extra fields NULL. Plain SQL, so the planner inlines it into
--   the caller's statement and the call costs nothing of its own.
create or replace function pgq.insert_event(queue_name text, ev_type text, ev_data text)
returns bigint
language sql
as $$
  select pgq.insert_event(queue_name, ev_type, ev_data, null, null, null, null)
$$;
