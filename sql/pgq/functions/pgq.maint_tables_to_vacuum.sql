-- pgq.maint_tables_to_vacuum(): small, busy tables that need frequent VACUUM when autovacuum
-- does not run.
--
-- Parameters: none.
-- Result: table names ('schema.table'); none when autovacuum is on. Otherwise those of
--   pgq.subscription, pgq.consumer, pgq.queue, pgq.tick, pgq.retry_queue, the tables of schema
--   pgq_ext, pgq_node.local_state, londiste.seq_info, londiste.completed and txid.epoch that
--   exist in this database.
-- Writes: nothing.
create or replace function pgq.maint_tables_to_vacuum()
returns setof text
language plpgsql
as $$
declare
  v_name text;
begin
  if pg_catalog.current_setting('autovacuum') = 'on' then
    return;
  end if;

  for v_name in
    select x.name
      from (select want.nr, n.nspname || '.' || c.relname as name
              from pg_catalog.pg_class c
              join pg_catalog.pg_namespace n on n.oid = c.relnamespace
              join (values (1, 'pgq', 'subscription'), (2, 'pgq', 'consumer'),
                           (3, 'pgq', 'queue'), (4, 'pgq', 'tick'), (5, 'pgq', 'retry_queue'),
                           (7, 'pgq_node', 'local_state'), (8, 'londiste', 'seq_info'),
                           (9, 'londiste', 'completed'), (10, 'txid', 'epoch'))
                   as want (nr, schema_name, table_name)
                on want.schema_name = n.nspname and want.table_name = c.relname
             where c.relkind = 'r'
            union all
            select 6, n.nspname || '.' || c.relname
              from pg_catalog.pg_class c
              join pg_catalog.pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'pgq_ext' and c.relkind = 'r') x
     order by x.nr, x.name
  loop
    return next v_name;
  end loop;
  return;
end;
$$;
