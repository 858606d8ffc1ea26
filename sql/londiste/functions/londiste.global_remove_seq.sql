-- londiste.global_remove_seq(i_queue_name text, i_seq_name text) → (ret_code int4, ret_note text)
--
-- A sequence leaves the set. On the root the other nodes are told with event
-- `londiste.remove-seq` (ev_data = the sequence name); replicas call this when they see it.
--
-- Result: 200 'Sequence removed: <seq>'; 400 'Sequence not found: <seq>'.
-- Tables written: londiste.seq_info; a pgq event on the root.
create or replace function londiste.global_remove_seq(
  in i_queue_name text,
  in i_seq_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
strict
as $$
declare
  v_fqname text := londiste.make_fqname(i_seq_name);
begin
  delete from londiste.seq_info s
   where s.queue_name = i_queue_name and s.seq_name = v_fqname;
  if not found then
    ret_code := 400;
    ret_note := 'Sequence not found: ' || v_fqname;
    return;
  end if;
  if pgq_node.is_root_node(i_queue_name) then
    perform londiste.root_notify_change(i_queue_name, 'londiste.remove-seq', v_fqname);
  end if;
  ret_code := 200;
  ret_note := 'Sequence removed: ' || v_fqname;
end;
$$;
