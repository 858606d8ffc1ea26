-- londiste.get_valid_pending_fkeys(i_queue_name text) → setof londiste.pending_fkeys
--
-- The dropped foreign keys this queue's worker may restore now: both tables are replicated
-- here (a local table_info row whose destination is the table) and every local row of
-- either table, in any queue, is 'ok' with no copy snapshot left. Where the tables come
-- through several queues (merge nodes), exactly one is responsible: the first by name among
-- the queues that replicate either table.
--
-- Tables written: none.
create or replace function londiste.get_valid_pending_fkeys(i_queue_name text)
returns setof londiste.pending_fkeys
language sql
strict
stable
as $$
  select p.*
    from londiste.pending_fkeys p
   where exists (select 1 from londiste.table_info t
                  where t.local and coalesce(t.dest_table, t.table_name) = p.from_table)
     and exists (select 1 from londiste.table_info t
                  where t.local and coalesce(t.dest_table, t.table_name) = p.to_table)
     and not exists (select 1 from londiste.table_info t
                      where t.local
                        and coalesce(t.dest_table, t.table_name) in (p.from_table, p.to_table)
                        and (t.merge_state is distinct from 'ok' or t.custom_snapshot is not null))
     and (select pg_catalog.min(t.queue_name) from londiste.table_info t
           where t.local
             and coalesce(t.dest_table, t.table_name) in (p.from_table, p.to_table))
         = i_queue_name
   order by p.from_table, p.fkey_name
$$;
