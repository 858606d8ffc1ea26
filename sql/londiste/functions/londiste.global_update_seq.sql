-- londiste.global_update_seq(i_queue_name text, i_seq_name text, i_value int8)
--   → (ret_code int4, ret_note text)
--
-- A replica learns a sequence position the root published (event londiste.update-seq): the
-- value is stored (the sequence joins the set if new), and a local sequence is moved
-- forward to it (pgq.seq_setval; never backwards).
--
-- Result: 200 'Sequence updated'; 404 'Set not found: <queue>';
--   402 'Must not run on root node'.
-- Tables written: londiste.seq_info; the sequence when local.
create or replace function londiste.global_update_seq(
  in i_queue_name text,
  in i_seq_name text,
  in i_value int8,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
declare
  v_fqname text := londiste.make_fqname(i_seq_name);
  v_node_type text;
  v_local boolean;
begin
  select n.node_type into v_node_type
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    ret_code := 404;
    ret_note := 'Set not found: ' || i_queue_name;
    return;
  end if;
  if v_node_type = 'root' then
    ret_code := 402;
    ret_note := 'Must not run on root node';
    return;
  end if;

  select s.local into v_local
    from londiste.seq_info s
   where s.queue_name = i_queue_name and s.seq_name = v_fqname
     for update;
  if not found then
    insert into londiste.seq_info (queue_name, seq_name, last_value)
    values (i_queue_name, v_fqname, i_value);
  else
    update londiste.seq_info s set last_value = i_value
     where s.queue_name = i_queue_name and s.seq_name = v_fqname;
    if v_local then
      perform pgq.seq_setval(v_fqname, i_value);
    end if;
  end if;

  ret_code := 200;
  ret_note := 'Sequence updated';
end;
$$;
