-- pgq_node.set_consumer_uptodate(i_queue_name, i_consumer_name, i_uptodate)
--   → (ret_code int4, ret_note text)
--
-- Set a cascaded consumer's uptodate flag. A worker sets it once it has seen a pause,
-- resume or provider change; admin tools wait for it.
--
-- Parameters:
--   i_queue_name     cascaded queue
--   i_consumer_name  consumer
--   i_uptodate       new value
-- Result: 200 'Consumer uptodate = 1' (or '= 0'); 404 'Consumer not known: <queue>/<consumer>'.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.set_consumer_uptodate(
  in i_queue_name text,
  in i_consumer_name text,
  in i_uptodate boolean,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update pgq_node.local_state
     set uptodate = i_uptodate
   where queue_name = i_queue_name and consumer_name = i_consumer_name;
  if not found then
    ret_code := 404;
    ret_note := 'Consumer not known: ' || i_queue_name || '/' || i_consumer_name;
    return;
  end if;
  ret_code := 200;
  ret_note := 'Consumer uptodate = ' || i_uptodate::int4;
  return;
end;
$$;
