-- pgq_node.set_consumer_paused(i_queue_name, i_consumer_name, i_paused)
--   → (ret_code int4, ret_note text)
--
-- Pause or resume a cascaded consumer. A change also clears uptodate: the admin then waits
-- until the worker has seen it and set uptodate again.
--
-- Parameters:
--   i_queue_name     cascaded queue
--   i_consumer_name  consumer
--   i_paused         true = pause, false = resume
-- Result: 200 'Consumer <consumer> tagged as paused' (or 'resumed');
--   201 'Consumer <consumer> already paused' (or 'resumed'), nothing changed;
--   404 'Unknown consumer: <consumer>'.
-- Tables written: pgq_node.local_state.
create or replace function pgq_node.set_consumer_paused(
  in i_queue_name text,
  in i_consumer_name text,
  in i_paused boolean,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_paused boolean;
  v_word text := case when i_paused then 'paused' else 'resumed' end;
begin
  select s.paused into v_paused
    from pgq_node.local_state s
   where s.queue_name = i_queue_name and s.consumer_name = i_consumer_name
     for update;
  if not found then
    ret_code := 404;
    ret_note := 'Unknown consumer: ' || i_consumer_name;
    return;
  end if;
  if v_paused = i_paused then
    ret_code := 201;
    ret_note := 'Consumer ' || i_consumer_name || ' already ' || v_word;
    return;
  end if;

  update pgq_node.local_state
     set paused = i_paused, uptodate = false
   where queue_name = i_queue_name and consumer_name = i_consumer_name;

  ret_code := 200;
  ret_note := 'Consumer ' || i_consumer_name || ' tagged as ' || v_word;
  return;
end;
$$;
