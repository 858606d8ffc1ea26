-- londiste.get_table_list(i_queue_name text) → setof (table_name, local, merge_state,
--   custom_snapshot, table_attrs, dropped_ddl, copy_role, copy_pos int4, dest_table)
--
-- The tables of a queue's set as this node knows them, in the order they were added: the
-- stored columns, plus for tables being copied (in-copy, catching-up) the copy's role and
-- position among the sources of a merged table (londiste._coordinate_copy); otherwise
-- copy_role is NULL and copy_pos 0.
--
-- Tables written: none.
create or replace function londiste.get_table_list(
  in i_queue_name text,
  out table_name text,
  out local boolean,
  out merge_state text,
  out custom_snapshot text,
  out table_attrs text,
  out dropped_ddl text,
  out copy_role text,
  out copy_pos int4,
  out dest_table text)
returns setof record
language sql
stable
strict
as $$
  select t.table_name, t.local, t.merge_state, t.custom_snapshot, t.table_attrs,
         t.dropped_ddl, c.copy_role, coalesce(c.copy_pos, 0), t.dest_table
    from londiste.table_info t
    left join lateral londiste._coordinate_copy(t.queue_name, t.table_name) c
      on t.merge_state in ('in-copy', 'catching-up')
   where t.queue_name = i_queue_name
   order by t.nr, t.table_name
$$;
