-- londiste.root_check_seqs(i_queue_name text, i_buffer int8) → (ret_code int4, ret_note text)
-- londiste.root_check_seqs(i_queue_name text) → same, with i_buffer 10000
--
-- On the root, publish sequence positions ahead of use: for each local sequence of the
-- queue whose real last_value + i_buffer has reached the value last published, publish
-- last_value + 3 * i_buffer as event `londiste.update-seq` (ev_data = the value, ev_extra1 =
-- the sequence name) and store it in seq_info. Replicas move their sequences to the
-- published value, so they stay ahead of the root and ids do not collide after a failover.
-- pgqd's maintenance calls the 1-argument form (pgq.maint_operations names it) and the root
-- worker each loop.
--
-- Result: 100 'Sequences updated' (also when nothing needed publishing);
--   404 'Queue not found: <queue>'; 402 'Not a root node'.
-- Errors: a registered sequence that no longer exists raises 42P01 (as upstream) naming it.
-- Tables written: londiste.seq_info; pgq event tables (through pgq.insert_event).
create or replace function londiste.root_check_seqs(
  in i_queue_name text,
  in i_buffer int8,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
declare
  v_node_type text;
  v_seq record;
  v_real int8;
  v_new int8;
begin
  select n.node_type into v_node_type
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    ret_code := 404;
    ret_note := 'Queue not found: ' || i_queue_name;
    return;
  end if;
  if v_node_type <> 'root' then
    ret_code := 402;
    ret_note := 'Not a root node';
    return;
  end if;

  -- Rows locked: pgqd and the root worker may check at the same time; each value is
  -- published once.
  for v_seq in
    select s.seq_name, s.last_value
      from londiste.seq_info s
     where s.queue_name = i_queue_name and s.local
     order by s.nr
       for update
  loop
    if londiste.find_seq_oid(v_seq.seq_name) is null then
      raise exception 'relation "%" does not exist', v_seq.seq_name
        using errcode = 'undefined_table',
              detail = pg_catalog.format('sequence %s is registered for queue %s in londiste.seq_info',
                                         v_seq.seq_name, i_queue_name),
              hint = 'remove it from the queue (londiste remove-seq) or create it again';
    end if;
    execute pg_catalog.format('select last_value from %s', londiste.quote_fqname(v_seq.seq_name))
      into v_real;
    if v_real + i_buffer >= v_seq.last_value then
      v_new := v_real + 3 * i_buffer;
      perform pgq.insert_event(i_queue_name, 'londiste.update-seq', v_new::text,
                               v_seq.seq_name, null, null, null);
      update londiste.seq_info s
         set last_value = v_new
       where s.queue_name = i_queue_name and s.seq_name = v_seq.seq_name;
    end if;
  end loop;

  ret_code := 100;
  ret_note := 'Sequences updated';
end;
$$;

create or replace function londiste.root_check_seqs(
  in i_queue_name text,
  out ret_code int4,
  out ret_note text)
returns record
language sql
as $$
  select f.ret_code, f.ret_note from londiste.root_check_seqs(i_queue_name, 10000) f
$$;
