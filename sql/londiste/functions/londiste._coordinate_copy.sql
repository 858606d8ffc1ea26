-- londiste._coordinate_copy(i_queue_name text, i_table_name text)
--   → (copy_role text, copy_pos int4)
--
-- How the copy of a table must behave when the same destination table is copied from
-- several source queues at once (partitions merged into one table; the sources are the
-- queues with the same combined queue, or all queues without one). Only sources whose copy
-- has not finished ('ok') take part. The lead is the first source (by queue name) that has
-- already dropped DDL, else the first local source; alone, a copy needs no role.
--   lead         (in-copy) drops indexes and constraints once for everyone and keeps them
--                in dropped_ddl; when others have already copied without dropping, the lead
--                copies as they did: wait-replay.
--   wait-replay  copy without touching DDL, then wait in catching-up until the lead has
--                restored it (the lead itself waits so while others still copy).
--   wait-copy    (follower, in-copy) wait until the lead has dropped the DDL.
-- copy_pos: how many sources of the same table (earlier by queue name) are copying too,
-- for max_parallel_copy; 0 for the lead and for tables not in-copy.
--
-- Tables written: none.
create or replace function londiste._coordinate_copy(
  in i_queue_name text,
  in i_table_name text,
  out copy_role text,
  out copy_pos int4)
returns record
language plpgsql
stable
strict
as $$
declare
  me record;
  sources int4;
  finished int4;
  first_source text;
  ddl_source text;
  lead text;
begin
  copy_role := null;
  copy_pos := 0;

  select t.merge_state, t.dropped_ddl, coalesce(t.dest_table, t.table_name) as dest,
         n.combined_queue
    into me
    from londiste.table_info t
    join pgq_node.node_info n on n.queue_name = t.queue_name
   where t.queue_name = i_queue_name and t.table_name = i_table_name;
  if not found then
    copy_pos := null;
    return;
  end if;

  select pg_catalog.count(*) filter (where s.local),
         pg_catalog.count(*) filter (where s.local and s.merge_state <> 'in-copy'),
         pg_catalog.min(s.queue_name) filter (where s.local),
         pg_catalog.min(s.queue_name) filter (where s.local and s.dropped_ddl is not null),
         pg_catalog.count(*) filter (where s.queue_name < i_queue_name
                                      and me.merge_state = 'in-copy'
                                      and s.merge_state = 'in-copy')
    into sources, finished, first_source, ddl_source, copy_pos
    from pgq_node.node_info n
    join londiste.table_info s on s.queue_name = n.queue_name
   where n.combined_queue is not distinct from me.combined_queue
     and coalesce(s.dest_table, s.table_name) = me.dest
     and s.merge_state is distinct from 'ok';

  lead := coalesce(ddl_source, first_source);
  if sources = 1 or lead is null then
    return;
  end if;

  if lead = i_queue_name then
    if me.merge_state = 'in-copy' then
      if me.dropped_ddl is null and finished > 0 then
        copy_role := 'wait-replay';
      elsif finished < sources then
        copy_role := 'lead';
      end if;
      copy_pos := 0;
    elsif me.merge_state = 'catching-up' and me.dropped_ddl is not null
          and finished < sources then
      copy_role := 'wait-replay';
    end if;
  elsif me.merge_state = 'in-copy' then
    copy_role := case when ddl_source is not null or finished > 0 then 'wait-replay'
                      else 'wait-copy' end;
  elsif me.merge_state = 'catching-up' and ddl_source is not null then
    copy_role := 'wait-replay';
  end if;
end;
$$;
