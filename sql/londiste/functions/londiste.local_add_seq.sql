-- londiste.local_add_seq(i_queue_name text, i_seq_name text) → (ret_code int4, ret_note text)
--
-- Replicate a sequence into this database (`add-seq`). The sequence must exist here.
--   root:      adds it to the set as local and publishes its position at once
--              (londiste.root_check_seqs), so every node learns about it;
--   elsewhere: it must already be in the set (the root published it); it becomes local and
--              is moved forward to the last published value (never backwards).
--
-- Parameters: i_queue_name - the node's queue; i_seq_name - `schema.name` or `name` (public).
-- Result: 200 'Sequence added: <seq>'; 201 'Sequence already added: <seq>';
--   400 'Sequence not found: <seq>' (no such sequence here);
--   404 'Unknown sequence: <seq>' (not in the set, non-root).
-- Errors: an unknown queue raises (pgq_node.is_root_node).
-- Tables written: londiste.seq_info; the sequence; pgq events on the root.
create or replace function londiste.local_add_seq(
  in i_queue_name text,
  in i_seq_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
declare
  v_fqname text := londiste.make_fqname(i_seq_name);
  v_local boolean;
  v_last int8;
begin
  if londiste.find_seq_oid(v_fqname) is null then
    ret_code := 400;
    ret_note := 'Sequence not found: ' || v_fqname;
    return;
  end if;

  if pgq_node.is_root_node(i_queue_name) then
    select s.local into v_local
      from londiste.seq_info s
     where s.queue_name = i_queue_name and s.seq_name = v_fqname
       for update;
    if found and v_local then
      ret_code := 201;
      ret_note := 'Sequence already added: ' || v_fqname;
      return;
    elsif found then
      update londiste.seq_info s set local = true
       where s.queue_name = i_queue_name and s.seq_name = v_fqname;
    else
      -- 0: the first check below publishes the sequence's position.
      insert into londiste.seq_info (queue_name, seq_name, local, last_value)
      values (i_queue_name, v_fqname, true, 0);
    end if;
    perform londiste.root_check_seqs(i_queue_name);
  else
    select s.local, s.last_value into v_local, v_last
      from londiste.seq_info s
     where s.queue_name = i_queue_name and s.seq_name = v_fqname
       for update;
    if not found then
      ret_code := 404;
      ret_note := 'Unknown sequence: ' || v_fqname;
      return;
    elsif v_local then
      ret_code := 201;
      ret_note := 'Sequence already added: ' || v_fqname;
      return;
    end if;
    update londiste.seq_info s set local = true
     where s.queue_name = i_queue_name and s.seq_name = v_fqname;
    perform pgq.seq_setval(v_fqname, v_last);
  end if;

  ret_code := 200;
  ret_note := 'Sequence added: ' || v_fqname;
end;
$$;
