-- londiste.execute_finish(i_queue_name text, i_file_name text) → (ret_code int4, ret_note text)
--
-- Last step of EXECUTE, after the statements ran: on the root, send the script to every
-- node as event `EXECUTE` (ev_data = the SQL, ev_extra1 = the file name, ev_extra2 = the
-- attributes), so each replays it at exactly this queue position. Elsewhere nothing more.
--
-- Result: 200 'Execute finished: <file>';
--   404 'execute_file called without execute_start' (no such file recorded).
-- Errors: an unknown queue raises (pgq_node.is_root_node).
-- Tables written: pgq event tables on the root.
create or replace function londiste.execute_finish(
  in i_queue_name text,
  in i_file_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
strict
as $$
declare
  v_is_root boolean := pgq_node.is_root_node(i_queue_name);
  v_sql text;
  v_attrs text;
begin
  select e.execute_sql, e.execute_attrs into v_sql, v_attrs
    from londiste.applied_execute e
   where e.execute_file = i_file_name;
  if not found then
    ret_code := 404;
    ret_note := 'execute_file called without execute_start';
    return;
  end if;
  if v_is_root then
    perform pgq.insert_event(i_queue_name, 'EXECUTE', v_sql, i_file_name, v_attrs, null, null);
  end if;
  ret_code := 200;
  ret_note := 'Execute finished: ' || i_file_name;
end;
$$;
