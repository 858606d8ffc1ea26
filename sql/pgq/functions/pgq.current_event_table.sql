-- pgq.current_event_table(x_queue_name text) → text
--
-- Name of the queue's active data table (`pgq.event_N_M`), for loading events directly
-- (COPY or INSERT ... SELECT). Rows must supply ev_time; ev_id and ev_txid have defaults.
-- The answer is valid until the end of the calling transaction: the transaction gets its
-- txid before the queue row is read, so a later table switch is followed by a step 2 that
-- accounts for it (in REPEATABLE READ / SERIALIZABLE the row is locked FOR SHARE instead).
-- On a queue with insert disabled it raises unless session_replication_role = replica.
--
-- Parameters: x_queue_name - queue name.
-- Result: `schema.table` of the current data table.
-- Tables written: none.
create or replace function pgq.current_event_table(x_queue_name text)
returns text
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_data_pfx text;
  v_cur_table integer;
  v_disable_insert boolean;
begin
  perform txid_current();
  if current_setting('transaction_isolation') = 'read committed' then
    select queue_data_pfx, queue_cur_table, queue_disable_insert
      into v_data_pfx, v_cur_table, v_disable_insert
      from pgq.queue
     where queue_name = x_queue_name;
  else
    select queue_data_pfx, queue_cur_table, queue_disable_insert
      into v_data_pfx, v_cur_table, v_disable_insert
      from pgq.queue
     where queue_name = x_queue_name
       for share;
  end if;
  -- The caller is about to COPY events in (their ids come from the table's default): wake
  -- a sleeping pgqd at commit, as pgq.insert_event does.
  if found and pg_sequence_last_value('pgq.ticker_wakeup'::regclass) is not null then
    perform pgq._ticker_wakeup(x_queue_name);
  end if;
  if not found then
    raise exception 'Event queue not found'
      using detail = format('queue: %s', x_queue_name);
  end if;
  if v_disable_insert and current_setting('session_replication_role') <> 'replica' then
    raise exception 'Writing to queue disabled'
      using detail = format('queue: %s', x_queue_name),
            hint = 'the queue has queue_disable_insert set; only session_replication_role = replica may write';
  end if;
  return v_data_pfx || '_' || v_cur_table::text;
end;
$$;
