-- pgq.create_queue(i_queue_name text) → integer
--
-- Create a queue: its row in pgq.queue, the per-queue objects and the first tick.
-- For queue id N (from the pgq.queue serial) it makes
--   sequences pgq.event_N_tick_seq (tick ids) and pgq.event_N_id_seq (event ids);
--   pgq.event_N, an empty table inheriting pgq.event_template;
--   pgq.event_N_0 .. pgq.event_N_<ntables-1>, the rotating data tables inheriting
--   pgq.event_N, with ev_id defaulting to nextval of the event sequence and an index
--   event_N_<i>_txid_idx on ev_txid;
-- then regenerates pgq.insert_event/insert_event_raw to know the new tables
-- (pgq._generate_insert_functions), copies the grants of pgq.event_template
-- (pgq.grant_perms), ticks once (pgq.ticker) and tunes storage (pgq.tune_storage).
--
-- Parameters: i_queue_name - queue name (any text).
-- Result: 1 = created, 0 = a queue of that name already exists.
-- Tables written: pgq.queue, pgq.tick; creates the objects above.
create or replace function pgq.create_queue(i_queue_name text)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_id integer;
  v_ntables integer;
  v_data_pfx text;
  v_event_seq text;
  v_tick_seq text;
  v_table text;
  i integer;
begin
  if i_queue_name is null then
    raise exception 'Invalid NULL value'
      using hint = 'pgq.create_queue() needs a queue name';
  end if;

  perform 1 from pgq.queue where queue_name = i_queue_name;
  if found then
    return 0;
  end if;

  v_id := nextval(pg_get_serial_sequence('pgq.queue', 'queue_id')::regclass);
  v_data_pfx := 'pgq.event_' || v_id::text;
  v_event_seq := v_data_pfx || '_id_seq';
  v_tick_seq := v_data_pfx || '_tick_seq';

  -- A concurrent create_queue of the same name wins: wait for it and report "exists".
  insert into pgq.queue (queue_id, queue_name, queue_data_pfx, queue_event_seq, queue_tick_seq)
  values (v_id, i_queue_name, v_data_pfx, v_event_seq, v_tick_seq)
  on conflict (queue_name) do nothing
  returning queue_ntables into v_ntables;
  if not found then
    return 0;
  end if;

  execute format('create sequence %s', pgq.quote_fqname(v_tick_seq));
  execute format('create sequence %s', pgq.quote_fqname(v_event_seq));

  execute format('create table %s () inherits (pgq.event_template)',
                 pgq.quote_fqname(v_data_pfx));
  for i in 0 .. v_ntables - 1 loop
    v_table := v_data_pfx || '_' || i::text;
    execute format('create table %s () inherits (%s)',
                   pgq.quote_fqname(v_table), pgq.quote_fqname(v_data_pfx));
    execute format('alter table %s alter column ev_id set default nextval(%L::regclass)',
                   pgq.quote_fqname(v_table), pgq.quote_fqname(v_event_seq));
    execute format('create index %I on %s (ev_txid)',
                   'event_' || v_id::text || '_' || i::text || '_txid_idx',
                   pgq.quote_fqname(v_table));
  end loop;

  perform pgq._generate_insert_functions();
  perform pgq.grant_perms(i_queue_name);
  perform pgq.ticker(i_queue_name);
  perform pgq.tune_storage(i_queue_name);
  -- A sleeping pgqd makes the queue's second tick (and knows it) without waiting.
  if pg_sequence_last_value('pgq.ticker_wakeup'::regclass) is not null then
    perform pgq._ticker_wakeup(i_queue_name);
  end if;
  return 1;
end;
$$;
