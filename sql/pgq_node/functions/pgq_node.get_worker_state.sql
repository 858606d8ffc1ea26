-- pgq_node.get_worker_state(i_queue_name) → (ret_code int4, ret_note text, node_type text,
--   node_name text, completed_tick bigint, provider_node text, provider_location text,
--   paused boolean, uptodate boolean, cur_error text, worker_name text,
--   global_watermark bigint, local_watermark bigint, local_queue_top bigint,
--   combined_queue text, combined_type text)
--
-- What the node's worker needs at the start of each loop: its position and provider, and on
-- a root or branch the local queue's watermarks and latest tick (local_queue_top: a batch
-- ending at or below it is already in the local queue).
--
-- Parameters: i_queue_name - cascaded queue.
-- Result: 100 'Ok'; 404 'Unknown queue: <queue>', 'Unknown consumer: <queue>/<worker>',
--   'Unknown provider node: <queue>/<provider>', 'Combinde queue node not found: <queue>'
--   (upstream's spelling).
-- Tables written: none.
create or replace function pgq_node.get_worker_state(
  in i_queue_name text,
  out ret_code int4,
  out ret_note text,
  out node_type text,
  out node_name text,
  out completed_tick bigint,
  out provider_node text,
  out provider_location text,
  out paused boolean,
  out uptodate boolean,
  out cur_error text,
  out worker_name text,
  out global_watermark bigint,
  out local_watermark bigint,
  out local_queue_top bigint,
  out combined_queue text,
  out combined_type text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
#variable_conflict use_variable
begin
  select n.node_type, n.node_name, n.worker_name, n.combined_queue
    into node_type, node_name, worker_name, combined_queue
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    ret_code := 404;
    ret_note := 'Unknown queue: ' || i_queue_name;
    return;
  end if;

  -- The worker is a cascaded consumer of its node: its position and provider are read, and
  -- refused, the same way.
  select c.ret_code, c.ret_note, c.completed_tick, c.provider_node, c.provider_location,
         c.paused, c.uptodate, c.cur_error
    into ret_code, ret_note, completed_tick, provider_node, provider_location,
         paused, uptodate, cur_error
    from pgq_node.get_consumer_state(i_queue_name, worker_name) c;
  if ret_code <> 100 then
    return;
  end if;

  if combined_queue is not null then
    select c.node_type into combined_type
      from pgq_node.node_info c
     where c.queue_name = combined_queue;
    if not found then
      ret_code := 404;
      ret_note := 'Combinde queue node not found: ' || combined_queue;
      return;
    end if;
  end if;

  if node_type in ('root', 'branch') then
    global_watermark := pgq_node._consumer_position(i_queue_name, '.global_watermark');
    local_watermark := pgq_node._local_watermark(i_queue_name);
    local_queue_top := pgq_node._queue_top(i_queue_name);
  else
    local_watermark := completed_tick;
  end if;

  ret_code := 100;
  ret_note := 'Ok';
  return;
end;
$$;
