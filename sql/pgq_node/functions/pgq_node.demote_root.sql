-- pgq_node.demote_root(i_queue_name, i_step, i_new_provider)
--   → (ret_code int4, ret_note text, last_tick int8)
--
-- Turn the root into a branch during a switchover, in three steps, each in a transaction of
-- its own (the admin waits between them for the new root to catch up):
--   1  stop local writes: insert disabled, external ticker. Repeatable.
--      200 'Step 1: Writing disabled for: <queue>'
--   2  wait for producers still writing (EXCLUSIVE lock on the queue's event tables), then
--      insert the last tick with the next tick id and the current event position; last_tick
--      is its id, the tick the new root must have completed before it is promoted.
--      200 'Step 2: Inserted last tick: <queue>'
--   3  node type becomes branch; the worker reads from i_new_provider from the latest tick
--      (returned as last_tick) on and is no longer up to date.
--      200 'Step 3: Demoted root to branch: <queue>'
--
-- Parameters:
--   i_queue_name    cascaded queue
--   i_step          1, 2 or 3
--   i_new_provider  the new root (step 3; a registered location)
-- Result: as above; 404 'Node not initialized for queue: <queue>'; 301 'Node not root'.
-- Errors: 'steps in wrong order' (a step above 1 before step 1), 'incorrect step number'.
-- Tables written: pgq.queue, pgq.tick, pgq_node.node_info, pgq_node.local_state.
create or replace function pgq_node.demote_root(
  in i_queue_name text,
  in i_step int4,
  in i_new_provider text,
  out ret_code int4,
  out ret_note text,
  out last_tick int8)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_node record;
  v_queue record;
begin
  select n.node_type, n.worker_name into v_node
    from pgq_node.node_info n
   where n.queue_name = i_queue_name
     for update;
  if not found then
    ret_code := 404;
    ret_note := 'Node not initialized for queue: ' || i_queue_name;
    return;
  end if;
  if v_node.node_type <> 'root' then
    ret_code := 301;
    ret_note := 'Node not root';
    return;
  end if;

  select q.queue_disable_insert, q.queue_external_ticker, q.queue_data_pfx, q.queue_tick_seq,
         q.queue_event_seq
    into v_queue
    from pgq.queue q
   where q.queue_name = i_queue_name
     for update;

  if i_step > 1 and not (v_queue.queue_disable_insert and v_queue.queue_external_ticker) then
    raise exception 'steps in wrong order'
      using detail = format('queue: %s, step: %s', i_queue_name, i_step),
            hint = 'run step 1 first, in its own transaction';
  end if;

  if i_step = 1 then
    update pgq.queue
       set queue_disable_insert = true, queue_external_ticker = true
     where queue_name = i_queue_name;
    ret_code := 200;
    ret_note := 'Step 1: Writing disabled for: ' || i_queue_name;
  elsif i_step = 2 then
    -- Upstream sets the replication role here, so the rest of this transaction may write into
    -- the now write-protected queue. Where the function owner may not (a managed server
    -- without GRANT SET), step 2 itself needs nothing of it and goes on without.
    begin
      set local session_replication_role = 'replica';
    exception
      when insufficient_privilege then
        raise notice 'demote_root: session_replication_role not changed'
          using detail = format('role %s may not set it', current_user);
    end;
    -- LOCK on the parent covers the rotating tables: it waits for producers that began
    -- before step 1, so the last tick includes their events.
    execute format('lock table %s in exclusive mode', pgq.quote_fqname(v_queue.queue_data_pfx));
    last_tick := pgq.ticker(i_queue_name,
                            nextval(pgq.quote_fqname(v_queue.queue_tick_seq)::regclass),
                            now(),
                            pgq.seq_getval(v_queue.queue_event_seq));
    ret_code := 200;
    ret_note := 'Step 2: Inserted last tick: ' || i_queue_name;
  elsif i_step = 3 then
    update pgq_node.node_info
       set node_type = 'branch'
     where queue_name = i_queue_name;
    last_tick := pgq_node._queue_top(i_queue_name);
    update pgq_node.local_state
       set provider_node = i_new_provider,
           last_tick_id = last_tick,
           uptodate = false
     where queue_name = i_queue_name and consumer_name = v_node.worker_name;
    ret_code := 200;
    ret_note := 'Step 3: Demoted root to branch: ' || i_queue_name;
  else
    raise exception 'incorrect step number'
      using detail = format('queue: %s, step: %s', i_queue_name, i_step),
            hint = 'steps are 1, 2 and 3';
  end if;
  return;
end;
$$;
