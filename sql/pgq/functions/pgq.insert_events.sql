-- pgq.insert_events(queue_name text, ev_type text[], ev_data text[],
--   ev_extra1 text[] default null, ev_extra2 text[] default null,
--   ev_extra3 text[] default null, ev_extra4 text[] default null) → setof bigint
--
-- Ours, not in upstream's API: produce many events with one call, as one set-based INSERT
-- into the queue's current table (one plan, one round trip, for thousands of events). Event i
-- gets ev_type[i], ev_data[i], ev_extra1[i] .. ev_extra4[i]; ev_time = now(); ids in array
-- order from the queue's event sequence. Part of the calling transaction, like insert_event.
--
-- Parameters: queue_name - the queue; ev_data - one element per event (elements may be
--   NULL); ev_type and ev_extra1..4 - NULL for all-NULL, else as long as ev_data.
-- Result: the new events' ids, in array order.
-- Errors: those of pgq.insert_event (`Queue name must not be NULL`, `No such queue`,
--   `Insert into queue disallowed`, the per-transaction limit, which counts every event of the
--   call); `ev_data must not be NULL`; `Arrays of different lengths` naming the array.
-- Tables written: pgq.event_N_<cur>; the queue's event sequence.
create or replace function pgq.insert_events(
  queue_name text, ev_type text[], ev_data text[],
  ev_extra1 text[] default null, ev_extra2 text[] default null,
  ev_extra3 text[] default null, ev_extra4 text[] default null)
returns setof bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_count integer := coalesce(cardinality(insert_events.ev_data), 0);
  v_target record;
  v_name text;
  v_len integer;
begin
  if insert_events.ev_data is null then
    raise exception 'ev_data must not be NULL'
      using detail = format('queue: %s', insert_events.queue_name),
            hint = 'pass one ev_data element per event (elements may be NULL)';
  end if;
  foreach v_name in array array['ev_type', 'ev_extra1', 'ev_extra2', 'ev_extra3', 'ev_extra4']
  loop
    v_len := case v_name
               when 'ev_type' then cardinality(insert_events.ev_type)
               when 'ev_extra1' then cardinality(insert_events.ev_extra1)
               when 'ev_extra2' then cardinality(insert_events.ev_extra2)
               when 'ev_extra3' then cardinality(insert_events.ev_extra3)
               else cardinality(insert_events.ev_extra4) end;
    if v_len is not null and v_len <> v_count then
      raise exception 'Arrays of different lengths'
        using detail = format('queue: %s; ev_data has %s elements, %s has %s',
                              insert_events.queue_name, v_count, v_name, v_len),
              hint = 'pass NULL instead of an array for a field that is NULL in every event';
    end if;
  end loop;

  v_target := pgq._insert_target(insert_events.queue_name, v_count);
  if v_count = 0 then
    return;
  end if;
  -- A function scan yields the elements in array order and nextval runs as each row is
  -- produced, so ids follow array order without a sort.
  return query execute format(
    'insert into %s (ev_id, ev_time, ev_txid, ev_type, ev_data,'
    ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
    ' select nextval(%L::regclass), now(), $1, e.t, e.d, e.x1, e.x2, e.x3, e.x4'
    ' from unnest($2, $3, $4, $5, $6, $7) as e(t, d, x1, x2, x3, x4)'
    ' returning ev_id', v_target.table_name, v_target.event_seq)
    using v_target.txid, insert_events.ev_type, insert_events.ev_data,
          insert_events.ev_extra1, insert_events.ev_extra2, insert_events.ev_extra3,
          insert_events.ev_extra4;
  -- After the ids are taken (see pgq._ticker_wakeup): wake a sleeping pgqd.
  if pg_sequence_last_value('pgq.ticker_wakeup'::regclass) is not null then
    perform pgq._ticker_wakeup(insert_events.queue_name);
  end if;
end;
$$;
