-- londiste.local_show_missing(i_queue_name text) → setof (obj_kind text, obj_name text)
--
-- What could still be replicated here (missing). On the root: the tables ('r') of the
-- database outside the system and SkyTools schemas that this queue does not replicate yet
-- (a local table's destination counts as replicated), and every sequence ('S') there:
-- upstream lists registered sequences too, and tools rely on its output. On other nodes:
-- the tables and sequences of the set that are not local here.
--
-- Tables written: none.
create or replace function londiste.local_show_missing(
  in i_queue_name text,
  out obj_kind text,
  out obj_name text)
returns setof record
language plpgsql
stable
strict
as $$
begin
  if pgq_node.is_root_node(i_queue_name) then
    return query
      select c.relkind::text, n.nspname || '.' || c.relname
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'S')
         and n.nspname not in ('pgq', 'pgq_ext', 'pgq_node', 'londiste', 'pg_catalog',
                               'information_schema')
         and n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
         and not exists (select 1 from londiste.table_info t
                          where c.relkind = 'r' and t.queue_name = i_queue_name and t.local
                            and coalesce(t.dest_table, t.table_name)
                                = n.nspname || '.' || c.relname)
       order by 1, 2;
  else
    return query
      select 'S'::text, s.seq_name from londiste.seq_info s
       where s.queue_name = i_queue_name and not s.local
      union all
      select 'r'::text, t.table_name from londiste.table_info t
       where t.queue_name = i_queue_name and not t.local
       order by 1, 2;
  end if;
end;
$$;
