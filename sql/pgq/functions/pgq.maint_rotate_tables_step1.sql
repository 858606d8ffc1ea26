-- pgq.maint_rotate_tables_step1(i_queue_name): first half of an event table rotation: switch
-- the queue to its next data table when that is safe.
--
-- Parameters: i_queue_name: the queue.
-- Result: 0, always (rotation is not repeated at once).
--   Rotates only when the previous rotation is complete (queue_switch_step2 set), the rotation
--   period has passed since the last switch, and every consumer's last tick began after
--   queue_switch_step2 (nobody will read the previous table again). The next table is locked
--   with NOWAIT (rotation is skipped when someone, e.g. pg_dump, holds a lock on it) and
--   truncated; it becomes current, queue_switch_step1 = this transaction, queue_switch_step2 =
--   NULL until pgq.maint_rotate_tables_step2() runs in a later transaction. The trigger on
--   pgq.queue points insert_event's hot path at the new table in the same transaction.
--   Ticks from before the previous step2 are deleted, except the queue's newest tick.
-- Errors: 'queue % maint failure: step1=%, current=%', 'queue % maint failure: tick % not found'.
-- Writes: pgq.queue, pgq.tick, the truncated data table.
create or replace function pgq.maint_rotate_tables_step1(i_queue_name text)
returns integer
language plpgsql
as $$
declare
  v_queue_id integer;
  v_ntables integer;
  v_cur_table integer;
  v_period interval;
  v_switch_time timestamptz;
  v_step1 bigint;
  v_step2 bigint;
  v_pfx text;
  v_txid bigint;
  v_lowest_tick bigint;
  v_lowest_xmin bigint;
  v_next integer;
  v_table text;
begin
  select q.queue_id, q.queue_ntables, q.queue_cur_table, q.queue_rotation_period,
         q.queue_switch_time, q.queue_switch_step1, q.queue_switch_step2, q.queue_data_pfx
    into v_queue_id, v_ntables, v_cur_table, v_period,
         v_switch_time, v_step1, v_step2, v_pfx
    from pgq.queue q
   where q.queue_name = i_queue_name
     for update;
  if not found then
    return 0;
  end if;

  -- Previous rotation not completed by step 2, or not due yet.
  if v_step2 is null or v_period is null or v_switch_time + v_period >= now() then
    return 0;
  end if;

  v_txid := pg_catalog.txid_current();
  if v_step1 >= v_txid then
    raise exception 'queue % maint failure: step1=%, current=%', i_queue_name, v_step1, v_txid
      using detail = 'the recorded table switch is newer than the current transaction';
  end if;

  -- The slowest consumer must have moved past the previous switch.
  select min(s.sub_last_tick) into v_lowest_tick
    from pgq.subscription s
   where s.sub_queue = v_queue_id and s.sub_last_tick is not null;
  if v_lowest_tick is not null then
    select pg_catalog.txid_snapshot_xmin(t.tick_snapshot) into v_lowest_xmin
      from pgq.tick t
     where t.tick_queue = v_queue_id and t.tick_id = v_lowest_tick;
    if not found then
      raise exception 'queue % maint failure: tick % not found', i_queue_name, v_lowest_tick
        using detail = 'a consumer is positioned on a tick that no longer exists';
    end if;
    if v_lowest_xmin < v_step2 then
      return 0;
    end if;
  end if;

  v_next := (v_cur_table + 1) % v_ntables;
  v_table := pgq.quote_fqname(v_pfx || '_' || v_next::text);
  begin
    execute 'lock table ' || v_table || ' nowait';
  exception when lock_not_available then
    return 0;
  end;
  execute 'truncate ' || v_table;

  -- Held until this transaction has told every backend about the switch (the trigger on
  -- pgq.queue rewrites the queue's slot function); step 2 waits for it, so its txid is larger
  -- than that of any producer that did not see the switch yet.
  perform pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtext('pgq.rotate_tables'));

  update pgq.queue
     set queue_cur_table = v_next,
         queue_switch_time = now(),
         queue_switch_step1 = v_txid,
         queue_switch_step2 = null
   where queue_id = v_queue_id;

  -- Ticks are kept for one rotation period, so consumers can be moved back.
  delete from pgq.tick t
   where t.tick_queue = v_queue_id
     and pg_catalog.txid_snapshot_xmin(t.tick_snapshot) < v_step2
     and t.tick_id < (select max(t2.tick_id) from pgq.tick t2 where t2.tick_queue = v_queue_id);
  return 0;
end;
$$;
