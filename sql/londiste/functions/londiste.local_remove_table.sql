-- londiste.local_remove_table(i_queue_name text, i_table_name text) → (ret_code, ret_note)
--
-- Stops replicating a table into this database (remove-table): its triggers of this queue
-- are dropped; when a copy had dropped DDL (dropped_ddl), the half-copied rows are
-- truncated and the DDL is run again, and the copy state and
-- attributes are cleared. On the root the table also leaves the set, and the other nodes
-- learn it through a londiste.remove-table event.
--
-- Result: 200 'Table removed: <schema.table>', 400 'Table not found: <schema.table>',
--   400 'Table not registered locally: <schema.table>'.
-- Tables written: londiste.table_info; the queue's event table on the root.
create or replace function londiste.local_remove_table(
  in i_queue_name text,
  in i_table_name text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
strict
as $$
declare
  fq_name text := londiste.make_fqname(i_table_name);
  tbl record;
begin
  select t.local, t.dropped_ddl into tbl
    from londiste.table_info t
   where t.queue_name = i_queue_name and t.table_name = fq_name;
  if not found then
    ret_code := 400;
    ret_note := 'Table not found: ' || fq_name;
    return;
  elsif not tbl.local then
    ret_code := 400;
    ret_note := 'Table not registered locally: ' || fq_name;
    return;
  end if;

  perform londiste.drop_table_triggers(i_queue_name, fq_name);
  if tbl.dropped_ddl is not null then
    -- The copy did not finish: its rows are thrown away before the indexes come back.
    execute 'truncate ' || londiste.quote_fqname(fq_name);
    execute tbl.dropped_ddl;
  end if;

  if pgq_node.is_root_node(i_queue_name) then
    delete from londiste.table_info t
     where t.queue_name = i_queue_name and t.table_name = fq_name;
    perform londiste.root_notify_change(i_queue_name, 'londiste.remove-table', fq_name);
  else
    update londiste.table_info t
       set local = false, merge_state = null, custom_snapshot = null, table_attrs = null,
           dropped_ddl = null, dest_table = null
     where t.queue_name = i_queue_name and t.table_name = fq_name;
  end if;

  ret_code := 200;
  ret_note := 'Table removed: ' || fq_name;
end;
$$;
