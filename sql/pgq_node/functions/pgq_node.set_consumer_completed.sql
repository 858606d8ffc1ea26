-- pgq_node.set_consumer_completed(i_queue_name, i_consumer_name, i_tick_id)
--   → (ret_code int4, ret_note text)
--
-- Record that a cascaded consumer has completed a batch up to i_tick_id. Called in the same
-- transaction as the consumer's work on this node, which makes the work exactly-once.
-- Clears the consumer's last error.
--
-- Parameters:
--   i_queue_name     cascaded queue
--   i_consumer_name  consumer
--   i_tick_id        end tick of the completed batch
-- Result: 100 'Consumer <consumer> completed tick = <tick>';
--   404 'Consumer not known: <queue>/<consumer>'.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.set_consumer_completed(
  in i_queue_name text,
  in i_consumer_name text,
  in i_tick_id int8,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update pgq_node.local_state
     set last_tick_id = i_tick_id, cur_error = null
   where queue_name = i_queue_name and consumer_name = i_consumer_name;
  if not found then
    ret_code := 404;
    ret_note := 'Consumer not known: ' || i_queue_name || '/' || i_consumer_name;
    return;
  end if;
  ret_code := 100;
  ret_note := 'Consumer ' || i_consumer_name || ' completed tick = ' || i_tick_id;
  return;
end;
$$;
