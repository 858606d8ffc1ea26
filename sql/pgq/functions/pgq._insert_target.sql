-- pgq._insert_target(i_queue_name text, i_count integer,
--   out queue_id integer, out table_name text, out event_seq text, out txid bigint)
--
-- Everything an insert must check and know before it writes i_count events into a queue, for
-- the general insert path (pgq._insert_event_general) and the set-based pgq.insert_events.
-- Checks, in order: queue name given; queue exists; inserts allowed (queue_disable_insert
-- off, or session_replication_role = replica); the queue's per-transaction limit
-- (queue_per_tx_limit: NULL unlimited, 0 forbids every insert) counts the events of the
-- current top-level transaction (events of a rolled-back savepoint do not count) and is
-- charged i_count more.
--
-- Result: the queue id, its current data table (quoted, ready for SQL), its event sequence
-- (quoted) and the transaction's txid.
-- Tables written: none (the per-transaction counter is a transaction-local setting).
--
-- The queue row is read after the transaction has its txid: a data table switch
-- (maint_rotate_tables_step1) committed before that read is seen, and one committed after
-- it is followed by step 2 with a larger txid, so readers know which table to look in. In
-- REPEATABLE READ / SERIALIZABLE the transaction snapshot can be older than the txid, so
-- there the row is locked FOR SHARE instead (a concurrent switch then raises a
-- serialization failure rather than losing the event).
create or replace function pgq._insert_target(
  i_queue_name text, i_count integer,
  out queue_id integer, out table_name text, out event_seq text, out txid bigint)
returns record
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
declare
  v_data_pfx text;
  v_cur_table integer;
  v_disable_insert boolean;
  v_per_tx_limit integer;
  v_counter_name text;
  v_counter text;
  v_count integer;
begin
  if i_queue_name is null then
    raise exception 'Queue name must not be NULL';
  end if;

  txid := txid_current();
  if current_setting('transaction_isolation') = 'read committed' then
    select q.queue_id, q.queue_data_pfx, q.queue_cur_table, q.queue_event_seq,
           q.queue_disable_insert, q.queue_per_tx_limit
      into queue_id, v_data_pfx, v_cur_table, event_seq, v_disable_insert, v_per_tx_limit
      from pgq.queue q
     where q.queue_name = i_queue_name;
  else
    select q.queue_id, q.queue_data_pfx, q.queue_cur_table, q.queue_event_seq,
           q.queue_disable_insert, q.queue_per_tx_limit
      into queue_id, v_data_pfx, v_cur_table, event_seq, v_disable_insert, v_per_tx_limit
      from pgq.queue q
     where q.queue_name = i_queue_name
       for share;
  end if;
  if not found then
    raise exception 'No such queue'
      using detail = format('queue: %s', i_queue_name),
            hint = 'create it with pgq.create_queue()';
  end if;

  if v_disable_insert and current_setting('session_replication_role') <> 'replica' then
    raise exception 'Insert into queue disallowed'
      using detail = format('queue: %s', i_queue_name),
            hint = 'the queue has queue_disable_insert set; only session_replication_role = replica may insert';
  end if;

  if v_per_tx_limit is not null then
    -- Transaction-local counter "<txid>:<count>"; reset at transaction end and on
    -- rollback of the savepoint that changed it.
    v_counter_name := 'pgq.tx_events_' || queue_id::text;
    v_counter := current_setting(v_counter_name, true);
    if v_counter is not null and split_part(v_counter, ':', 1) = txid::text then
      v_count := split_part(v_counter, ':', 2)::integer;
    else
      v_count := 0;
    end if;
    if v_count + i_count > v_per_tx_limit then
      raise exception 'Queue ''%'' allows max % events from one TX', i_queue_name, v_per_tx_limit
        using hint = 'the limit is pgq.queue.queue_per_tx_limit';
    end if;
    perform set_config(v_counter_name, txid::text || ':' || (v_count + i_count)::text, true);
  end if;

  table_name := pgq.quote_fqname(v_data_pfx || '_' || v_cur_table::text);
  event_seq := pgq.quote_fqname(event_seq);
end;
$$;
