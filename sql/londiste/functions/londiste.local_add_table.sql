-- londiste.local_add_table(i_queue_name, i_table_name [, i_trg_args text[]
--   [, i_table_attrs text [, i_dest_table text]]]) → (ret_code int4, ret_note text)
--
-- Starts replicating a table of the set into this database (add-table). The table (or
-- i_dest_table, where the events are applied instead) must exist and have a primary key,
-- unless the key of a merged table was dropped by another source's copy. On the root the
-- table joins the set (global_add_table, and a londiste.add-table event for the other
-- nodes) and is 'ok' at once; elsewhere it must be in the set already and waits for its
-- copy (merge_state NULL) unless expect_sync says the data is there, or the node is a merge
-- leaf whose combined queue is a branch. Then the queue's triggers are created
-- (create_trigger).
-- Arguments in i_trg_args, besides those create_trigger reads:
--   expect_sync    no copy: state 'ok'
--   skip_truncate  the copy keeps existing rows (table attribute skip_truncate=1)
--   merge_all      on a merge leaf, take the table from every source queue
--   no_merge       on a merge leaf, only from this queue
--   no_triggers    no triggers
--   virtual_table  no table here at all: no check, no copy, no triggers
-- On a merge leaf (unless no_merge) the same table of the other source queues of the
-- combined queue becomes local too, and the table is added to the combined queue.
--
-- Result: 200 'Table added: <name>', 200 'Table added with no triggers: <name>',
--   200 'Table already added: <name>', where <name> is schema.table, followed by
--   (schema.dest) when the destination differs;
--   400 'No such set: <queue>', 'Primary key missing on table: <name>';
--   404 'Table does not exist: <name>', 'Table not available on queue: <name>';
--   405 'Cannot use merge-all and no-merge together',
--       'Found local table <t> in queue <q>, use remove-table first to remove all previous
--       table subscriptions', 'Found multiple sources for table <t>, use merge-all or
--       no-merge to continue' (as upstream, the table is already marked local then);
--   410 'Table <name> already added, but with different args: <stored attributes>';
--   create_trigger's codes.
-- Tables written: londiste.table_info; the root queue's event table.
create or replace function londiste.local_add_table(
  in i_queue_name text,
  in i_table_name text,
  in i_trg_args text[],
  in i_table_attrs text,
  in i_dest_table text,
  out ret_code int4,
  out ret_note text)
returns record
language plpgsql
as $$
declare
  arg text;
  expect_sync boolean := false;
  skip_truncate boolean := false;
  merge_all boolean := false;
  no_merge boolean := false;
  no_triggers boolean := false;
  virtual_table boolean := false;
  attrs text := i_table_attrs;
  fq_name text := londiste.make_fqname(i_table_name);
  dest text := londiste.make_fqname(coalesce(i_dest_table, i_table_name));
  label text;
  dest_oid oid;
  node record;
  combined_type text;
  tbl record;
  new_state text;
  other record;
begin
  foreach arg in array coalesce(i_trg_args, '{}') loop
    case arg
      when 'expect_sync' then expect_sync := true;
      when 'skip_truncate' then skip_truncate := true;
      when 'merge_all' then merge_all := true;
      when 'no_merge' then no_merge := true;
      when 'no_triggers' then no_triggers := true;
      when 'virtual_table' then
        virtual_table := true;
        expect_sync := true;
        no_triggers := true;
      else null;
    end case;
  end loop;
  if skip_truncate then
    attrs := coalesce(attrs || '&', '') || 'skip_truncate=1';
  end if;

  if merge_all and no_merge then
    ret_code := 405;
    ret_note := 'Cannot use merge-all and no-merge together';
    return;
  end if;

  label := case when dest = fq_name then fq_name else fq_name || '(' || dest || ')' end;

  if not virtual_table then
    -- Plain tables only, as upstream (no views, no partitioned parents).
    select c.oid into dest_oid
      from pg_catalog.pg_class c
     where c.oid = pg_catalog.to_regclass(londiste.quote_fqname(dest)) and c.relkind = 'r';
    if dest_oid is null then
      ret_code := 404;
      ret_note := 'Table does not exist: ' || label;
      return;
    end if;
    if not exists (select 1 from pg_catalog.pg_index i
                    where i.indrelid = dest_oid and i.indisprimary)
       -- A merged table whose key another source's copy dropped for now.
       and not exists (
         select 1
           from pgq_node.node_info this_node
           join pgq_node.node_info other_node
             on other_node.combined_queue = this_node.combined_queue
            and other_node.queue_name <> this_node.queue_name
           join londiste.table_info t on t.queue_name = other_node.queue_name
          where this_node.queue_name = i_queue_name
            and coalesce(t.dest_table, t.table_name) = dest
            and t.dropped_ddl is not null) then
      ret_code := 400;
      ret_note := 'Primary key missing on table: ' || label;
      return;
    end if;
  end if;

  select n.node_type, n.combined_queue into node
    from pgq_node.node_info n
   where n.queue_name = i_queue_name;
  if not found then
    ret_code := 400;
    ret_note := 'No such set: ' || i_queue_name;
    return;
  end if;

  select t.local, t.table_attrs into tbl
    from londiste.table_info t
   where t.queue_name = i_queue_name and t.table_name = fq_name;
  if not found then
    if node.node_type <> 'root' then
      ret_code := 404;
      ret_note := 'Table not available on queue: ' || label;
      return;
    end if;
    select f.ret_code, f.ret_note into ret_code, ret_note
      from londiste.global_add_table(i_queue_name, i_table_name) f;
    if ret_code <> 200 then
      return;
    end if;
  elsif tbl.local then
    if tbl.table_attrs is distinct from attrs then
      ret_code := 410;
      ret_note := 'Table ' || label || ' already added, but with different args: '
                  || coalesce(tbl.table_attrs, '');
    else
      ret_code := 200;
      ret_note := 'Table already added: ' || label;
    end if;
    return;
  end if;

  select n.node_type into combined_type
    from pgq_node.node_info n
   where n.queue_name = node.combined_queue;
  if node.node_type = 'root' then
    new_state := 'ok';
    perform londiste.root_notify_change(i_queue_name, 'londiste.add-table', fq_name);
  elsif node.node_type = 'leaf' and combined_type = 'branch' then
    new_state := 'ok';
  elsif expect_sync then
    new_state := 'ok';
  end if;

  update londiste.table_info t
     set local = true, merge_state = new_state, table_attrs = attrs,
         dest_table = nullif(dest, fq_name)
   where t.queue_name = i_queue_name and t.table_name = fq_name;

  if node.node_type = 'leaf' and not no_merge then
    -- The same destination table in the other source queues of the combined queue (as
    -- upstream: for a leaf without one, in every other queue without one).
    for other in
      select t.queue_name, t.table_name, t.local
        from pgq_node.node_info n
        join londiste.table_info t on t.queue_name = n.queue_name
       where n.combined_queue is not distinct from node.combined_queue
         and n.queue_name <> i_queue_name
         and coalesce(t.dest_table, t.table_name) = dest
       order by t.nr
    loop
      if coalesce(new_state, '') <> 'ok' then
        if other.local then
          ret_code := 405;
          ret_note := 'Found local table ' || other.table_name || ' in queue '
                      || other.queue_name
                      || ', use remove-table first to remove all previous table subscriptions';
          return;
        elsif not merge_all then
          ret_code := 405;
          ret_note := 'Found multiple sources for table ' || other.table_name
                      || ', use merge-all or no-merge to continue';
          return;
        end if;
      end if;
      update londiste.table_info t
         set local = true, merge_state = new_state,
             table_attrs = coalesce(attrs, t.table_attrs)
       where t.queue_name = other.queue_name and t.table_name = other.table_name;
    end loop;

    -- The combined queue carries the table too.
    if node.combined_queue is not null and not exists (
         select 1 from londiste.table_info t
          where t.queue_name = node.combined_queue and t.table_name = fq_name and t.local) then
      select f.ret_code, f.ret_note into ret_code, ret_note
        from londiste.local_add_table(node.combined_queue, fq_name, i_trg_args, attrs,
                                      dest) f;
      if ret_code >= 300 then
        return;
      end if;
    end if;
  end if;

  if no_triggers then
    ret_code := 200;
    ret_note := 'Table added with no triggers: ' || label;
    return;
  end if;

  select f.ret_code, f.ret_note into ret_code, ret_note
    from londiste.create_trigger(i_queue_name, fq_name, i_trg_args, dest, node.node_type) f;
  if ret_code > 299 then
    ret_note := 'Trigger creation failed for table ' || label || ': ' || ret_note;
    return;
  end if;

  ret_code := 200;
  ret_note := 'Table added: ' || label;
end;
$$;

-- The shorter forms: no destination table, no attributes, no arguments.
create or replace function londiste.local_add_table(
  in i_queue_name text,
  in i_table_name text,
  in i_trg_args text[],
  in i_table_attrs text,
  out ret_code int4,
  out ret_note text)
returns record
language sql
as $$
  select f.ret_code, f.ret_note
    from londiste.local_add_table(i_queue_name, i_table_name, i_trg_args, i_table_attrs,
                                  null) f
$$;

create or replace function londiste.local_add_table(
  in i_queue_name text,
  in i_table_name text,
  in i_trg_args text[],
  out ret_code int4,
  out ret_note text)
returns record
language sql
as $$
  select f.ret_code, f.ret_note
    from londiste.local_add_table(i_queue_name, i_table_name, i_trg_args, null, null) f
$$;

create or replace function londiste.local_add_table(
  in i_queue_name text,
  in i_table_name text,
  out ret_code int4,
  out ret_note text)
returns record
language sql
strict
as $$
  select f.ret_code, f.ret_note
    from londiste.local_add_table(i_queue_name, i_table_name, null, null, null) f
$$;
