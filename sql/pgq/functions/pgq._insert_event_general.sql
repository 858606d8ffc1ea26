-- pgq._insert_event_general(queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer,
--   ev_retry integer, ev_type text, ev_data text, ev_extra1 text, ev_extra2 text,
--   ev_extra3 text, ev_extra4 text) → bigint
--
-- The complete insert of an event, for every case: pgq.insert_event and
-- pgq.insert_event_raw take a faster path of their own (see
-- pgq._generate_insert_functions) and come here for everything else (unknown queue, inserts
-- disabled, per-transaction limit, an explicit ev_id, REPEATABLE READ or SERIALIZABLE, a queue
-- newer than the generated code). Part of the calling transaction. Every call takes nextval
-- of the queue's event sequence, even when ev_id is given: that is how the ticker sees new
-- events.
-- Checks, in order: queue name given; queue exists; inserts allowed (queue_disable_insert
-- off, or session_replication_role = replica); the queue's per-transaction limit
-- (queue_per_tx_limit: NULL unlimited, 0 forbids every insert) counts the events of the
-- current top-level transaction (events of a rolled-back savepoint do not count).
--
-- Parameters: as pgq.insert_event_raw.
-- Result: the event id.
-- Tables written: pgq.event_N_<cur>; the queue's event sequence.
--
-- The queue row is read after the transaction has its txid: a data table switch
-- (maint_rotate_tables_step1) committed before that read is seen, and one committed after
-- it is followed by step 2 with a larger txid, so readers know which table to look in. In
-- REPEATABLE READ / SERIALIZABLE the transaction snapshot can be older than the txid, so
-- there the row is locked FOR SHARE instead (a concurrent switch then raises a
-- serialization failure rather than losing the event).
create or replace function pgq._insert_event_general(
  queue_name text, ev_id bigint, ev_time timestamptz, ev_owner integer, ev_retry integer,
  ev_type text, ev_data text, ev_extra1 text, ev_extra2 text, ev_extra3 text, ev_extra4 text)
returns bigint
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_column
declare
  v_txid bigint;
  v_queue_id integer;
  v_data_pfx text;
  v_cur_table integer;
  v_event_seq text;
  v_disable_insert boolean;
  v_per_tx_limit integer;
  v_counter_name text;
  v_counter text;
  v_count integer;
  v_id bigint;
begin
  if _insert_event_general.queue_name is null then
    raise exception 'Queue name must not be NULL';
  end if;

  v_txid := pg_catalog.txid_current();
  if pg_catalog.current_setting('transaction_isolation') = 'read committed' then
    select queue_id, queue_data_pfx, queue_cur_table, queue_event_seq,
           queue_disable_insert, queue_per_tx_limit
      into v_queue_id, v_data_pfx, v_cur_table, v_event_seq,
           v_disable_insert, v_per_tx_limit
      from pgq.queue
     where queue_name = _insert_event_general.queue_name;
  else
    select queue_id, queue_data_pfx, queue_cur_table, queue_event_seq,
           queue_disable_insert, queue_per_tx_limit
      into v_queue_id, v_data_pfx, v_cur_table, v_event_seq,
           v_disable_insert, v_per_tx_limit
      from pgq.queue
     where queue_name = _insert_event_general.queue_name
       for share;
  end if;
  if not found then
    raise exception 'No such queue'
      using detail = pg_catalog.format('queue: %s', _insert_event_general.queue_name),
            hint = 'create it with pgq.create_queue()';
  end if;

  if v_disable_insert
     and pg_catalog.current_setting('session_replication_role') <> 'replica' then
    raise exception 'Insert into queue disallowed'
      using detail = pg_catalog.format('queue: %s', _insert_event_general.queue_name),
            hint = 'the queue has queue_disable_insert set; only session_replication_role = replica may insert';
  end if;

  if v_per_tx_limit is not null then
    -- Transaction-local counter "<txid>:<count>"; reset at transaction end and on
    -- rollback of the savepoint that changed it.
    v_counter_name := 'pgq.tx_events_' || v_queue_id::text;
    v_counter := pg_catalog.current_setting(v_counter_name, true);
    if v_counter is not null
       and pg_catalog.split_part(v_counter, ':', 1) = v_txid::text then
      v_count := pg_catalog.split_part(v_counter, ':', 2)::integer;
    else
      v_count := 0;
    end if;
    if v_count >= v_per_tx_limit then
      raise exception 'Queue ''%'' allows max % events from one TX',
        _insert_event_general.queue_name, v_per_tx_limit
        using hint = 'the limit is pgq.queue.queue_per_tx_limit';
    end if;
    perform pg_catalog.set_config(v_counter_name,
                                  v_txid::text || ':' || (v_count + 1)::text, true);
  end if;

  v_id := pg_catalog.nextval(pgq.quote_fqname(v_event_seq)::pg_catalog.regclass);
  if _insert_event_general.ev_id is not null then
    v_id := _insert_event_general.ev_id;
  end if;

  execute pg_catalog.format(
    'insert into %s (ev_id, ev_time, ev_txid, ev_owner, ev_retry, ev_type, ev_data,'
    ' ev_extra1, ev_extra2, ev_extra3, ev_extra4)'
    ' values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
    pgq.quote_fqname(v_data_pfx || '_' || v_cur_table::text))
    using v_id, coalesce(_insert_event_general.ev_time, pg_catalog.now()), v_txid,
          _insert_event_general.ev_owner, _insert_event_general.ev_retry, _insert_event_general.ev_type,
          _insert_event_general.ev_data, _insert_event_general.ev_extra1, _insert_event_general.ev_extra2,
          _insert_event_general.ev_extra3, _insert_event_general.ev_extra4;
  return v_id;
end;
$$;
