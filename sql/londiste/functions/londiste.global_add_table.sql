-- londiste.global_add_table(i_queue_name text, i_table_name text) → (ret_code, ret_note)
--
-- Records that a table belongs to the set of a queue (not local: nothing is replicated
-- into it here yet). Called by the root's add-table and, through the londiste.add-table
-- event, on every other node. On a merge leaf the table is recorded in the combined queue
-- too. Re-running is harmless.
--
-- Result: 200 'Table added: <i_table_name>', 200 'Table already added: <schema.table>',
--   400 'No such queue: <queue>'.
-- Tables written: londiste.table_info.
create or replace function londiste.global_add_table(
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
  combined text;
begin
  select n.combined_queue into combined
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    ret_code := 400;
    ret_note := 'No such queue: ' || i_queue_name;
    return;
  end if;

  perform 1 from londiste.table_info t
   where t.queue_name = i_queue_name and t.table_name = fq_name;
  if found then
    ret_code := 200;
    ret_note := 'Table already added: ' || fq_name;
    return;
  end if;

  insert into londiste.table_info (queue_name, table_name)
  values (i_queue_name, fq_name);

  if combined is not null then
    perform londiste.global_add_table(combined, i_table_name);
  end if;

  ret_code := 200;
  ret_note := 'Table added: ' || i_table_name;
end;
$$;
