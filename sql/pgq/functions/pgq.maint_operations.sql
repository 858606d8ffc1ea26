-- pgq.maint_operations(): the maintenance plan pgqd carries out for this database.
--
-- Parameters: none.
-- Result: (func_name, func_arg) rows, in this order:
--   * 'pgq.maint_rotate_tables_step1', queue: each queue whose rotation period has passed since
--     its last table switch (and whose previous rotation is complete);
--   * 'pgq.maint_rotate_tables_step2', NULL: when any such queue was listed or any queue still
--     waits for step 2;
--   * each entry of a queue's queue_extra_maint, with the queue name;
--   * 'vacuum', table: for each table of pgq.maint_tables_to_vacuum();
--   * 'pgq_node.maint_watermark', queue: for each root node, when pgq_node provides it;
--   * 'londiste.root_check_seqs', queue: for each root queue with local sequences, when
--     londiste provides it;
--   * 'londiste.periodic_maintenance', NULL: when londiste provides it.
--   The pgq_node and londiste functions are found by catalog lookup of exactly these names.
--   Contract for the caller: a listed function takes 0 or 1 argument, and while it returns 1
--   it is called again at once.
-- Writes: nothing.
create or replace function pgq.maint_operations(out func_name text, out func_arg text)
returns setof record
language plpgsql
as $$
declare
  v_rotations integer := 0;
  v_queue text;
  v_func text;
begin
  for v_queue in
    select q.queue_name
      from pgq.queue q
     where q.queue_switch_step2 is not null
       and q.queue_rotation_period is not null
       and q.queue_switch_time + q.queue_rotation_period < now()
     order by q.queue_name
  loop
    func_name := 'pgq.maint_rotate_tables_step1';
    func_arg := v_queue;
    v_rotations := v_rotations + 1;
    return next;
  end loop;

  if v_rotations > 0 or exists (select 1 from pgq.queue q where q.queue_switch_step2 is null) then
    func_name := 'pgq.maint_rotate_tables_step2';
    func_arg := null;
    return next;
  end if;

  for v_queue, v_func in
    select q.queue_name, e.func
      from pgq.queue q
     cross join lateral pg_catalog.unnest(q.queue_extra_maint) with ordinality as e (func, nr)
     where e.func is not null
     order by q.queue_name, e.nr
  loop
    func_name := v_func;
    func_arg := v_queue;
    return next;
  end loop;

  for v_func in select t from pgq.maint_tables_to_vacuum() t loop
    func_name := 'vacuum';
    func_arg := v_func;
    return next;
  end loop;

  if pg_catalog.to_regclass('pgq_node.node_info') is not null
     and exists (select 1
                   from pg_catalog.pg_proc p
                   join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                  where n.nspname = 'pgq_node' and p.proname = 'maint_watermark') then
    for v_queue in
      execute 'select ni.queue_name from pgq_node.node_info ni'
           || ' where ni.node_type = ''root'' order by ni.queue_name'
    loop
      func_name := 'pgq_node.maint_watermark';
      func_arg := v_queue;
      return next;
    end loop;
  end if;

  if pg_catalog.to_regclass('pgq_node.node_info') is not null
     and pg_catalog.to_regclass('londiste.seq_info') is not null
     and exists (select 1
                   from pg_catalog.pg_proc p
                   join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                  where n.nspname = 'londiste' and p.proname = 'root_check_seqs') then
    for v_queue in
      execute 'select ni.queue_name from pgq_node.node_info ni'
           || ' where ni.node_type = ''root'''
           || ' and exists (select 1 from londiste.seq_info si'
           || ' where si.queue_name = ni.queue_name and si.local)'
           || ' order by ni.queue_name'
    loop
      func_name := 'londiste.root_check_seqs';
      func_arg := v_queue;
      return next;
    end loop;
  end if;

  if exists (select 1
               from pg_catalog.pg_proc p
               join pg_catalog.pg_namespace n on n.oid = p.pronamespace
              where n.nspname = 'londiste' and p.proname = 'periodic_maintenance') then
    func_name := 'londiste.periodic_maintenance';
    func_arg := null;
    return next;
  end if;
  return;
end;
$$;
