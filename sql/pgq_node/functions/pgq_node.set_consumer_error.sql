-- pgq_node.set_consumer_error(i_queue_name, i_consumer_name, i_error_msg)
--   → (ret_code int4, ret_note text)
--
-- Record the error a cascaded consumer stopped on, for admin status views. An unknown
-- consumer is not an error here: a failing consumer reports what it can.
--
-- Parameters:
--   i_queue_name     cascaded queue
--   i_consumer_name  consumer
--   i_error_msg      error text; NULL clears it
-- Result: 100 'Consumer <consumer> error = <message>';
--   101 'Consumer not known, ignoring: <queue>/<consumer>'.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.set_consumer_error(
  in i_queue_name text,
  in i_consumer_name text,
  in i_error_msg text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update pgq_node.local_state
     set cur_error = i_error_msg
   where queue_name = i_queue_name and consumer_name = i_consumer_name;
  if not found then
    ret_code := 101;
    ret_note := 'Consumer not known, ignoring: ' || i_queue_name || '/' || i_consumer_name;
    return;
  end if;
  ret_code := 100;
  ret_note := 'Consumer ' || i_consumer_name || ' error = ' || i_error_msg;
  return;
end;
$$;
