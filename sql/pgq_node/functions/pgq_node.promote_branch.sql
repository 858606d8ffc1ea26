-- pgq_node.promote_branch(i_queue_name) → (ret_code int4, ret_note text)
--
-- Make a branch the root, the last step of a switchover or failover: its queue accepts
-- inserts again and ticks by itself (the tick sequence continues from the latest copied
-- tick), the node type becomes root and its worker "reads" from the node itself.
--
-- Parameters: i_queue_name - cascaded queue.
-- Result: 200 'Branch node promoted to root'; 404 'Node not initialized for queue: <queue>';
--   301 'Node not branch'.
-- Tables written: pgq.queue, pgq_node.node_info, pgq_node.local_state; the tick sequence.
create or replace function pgq_node.promote_branch(
  in i_queue_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_node record;
  v_tick_seq text;
  v_top bigint;
begin
  select n.node_type, n.node_name, n.worker_name into v_node
    from pgq_node.node_info n
   where n.queue_name = i_queue_name
     for update;
  if not found then
    ret_code := 404;
    ret_note := 'Node not initialized for queue: ' || i_queue_name;
    return;
  end if;
  if v_node.node_type <> 'branch' then
    ret_code := 301;
    ret_note := 'Node not branch';
    return;
  end if;

  update pgq.queue
     set queue_disable_insert = false, queue_external_ticker = false
   where queue_name = i_queue_name
  returning queue_tick_seq into v_tick_seq;

  v_top := pgq_node._queue_top(i_queue_name);
  perform pgq.seq_setval(v_tick_seq, v_top);

  update pgq_node.node_info
     set node_type = 'root'
   where queue_name = i_queue_name;
  update pgq_node.local_state
     set provider_node = v_node.node_name, last_tick_id = v_top, uptodate = false
   where queue_name = i_queue_name and consumer_name = v_node.worker_name;

  ret_code := 200;
  ret_note := 'Branch node promoted to root';
  return;
end;
$$;
