-- londiste.local_remove_seq(i_queue_name text, i_seq_name text) → (ret_code int4, ret_note text)
--
-- Stop replicating a sequence here (`remove-seq`). On the root that removes it from the
-- set (londiste.global_remove_seq, which tells the other nodes); elsewhere the sequence
-- stays in the set and only stops being local.
--
-- Result: 200 'Sequence removed: <seq>'; root: 400 'Sequence not found: <seq>';
--   elsewhere: 404 'Sequence not found: <seq>' (not local here).
-- Errors: an unknown queue raises (pgq_node.is_root_node).
-- Tables written: londiste.seq_info; a pgq event on the root.
create or replace function londiste.local_remove_seq(
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
  if pgq_node.is_root_node(i_queue_name) then
    select f.ret_code, f.ret_note into ret_code, ret_note
      from londiste.global_remove_seq(i_queue_name, v_fqname) f;
    return;
  end if;
  update londiste.seq_info s set local = false
   where s.queue_name = i_queue_name and s.seq_name = v_fqname and s.local;
  if not found then
    ret_code := 404;
    ret_note := 'Sequence not found: ' || v_fqname;
    return;
  end if;
  ret_code := 200;
  ret_note := 'Sequence removed: ' || v_fqname;
end;
$$;
