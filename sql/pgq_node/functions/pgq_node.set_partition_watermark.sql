-- pgq_node.set_partition_watermark(i_combined_queue_name, i_part_queue_name, i_watermark)
--   → (ret_code int4, ret_note text)
--
-- On a database that holds a combined queue as a branch: a pgq.tick-id event (ev_data =
-- partition tick, extra1 = partition queue) says how far the merge-leaf on the combined
-- root has merged that partition; the local merge-leaf worker of the partition queue is
-- moved there, so it stays behind the combined queue it waits for.
--
-- Parameters:
--   i_combined_queue_name  the combined queue (the one whose event carried the tick)
--   i_part_queue_name      partition queue, merged into it
--   i_watermark            partition tick
-- Result: 200 'Ok'; 201 'Part-queue does not exist' (no merge-leaf of that partition into
--   this combined queue here, or the combined queue is not a branch here: on the combined
--   root the merge-leaf moves by itself); 401 'Worker registration not found'.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.set_partition_watermark(
  in i_combined_queue_name text,
  in i_part_queue_name text,
  in i_watermark bigint,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_worker text;
begin
  select n.worker_name into v_worker
    from pgq_node.node_info n
    join pgq_node.node_info c on c.queue_name = n.combined_queue
   where n.queue_name = i_part_queue_name
     and n.combined_queue = i_combined_queue_name
     and c.node_type = 'branch'
     for update of n;
  if not found then
    ret_code := 201;
    ret_note := 'Part-queue does not exist';
    return;
  end if;

  update pgq_node.local_state
     set last_tick_id = i_watermark
   where queue_name = i_part_queue_name and consumer_name = v_worker;
  if not found then
    ret_code := 401;
    ret_note := 'Worker registration not found';
    return;
  end if;

  ret_code := 200;
  ret_note := 'Ok';
  return;
end;
$$;
