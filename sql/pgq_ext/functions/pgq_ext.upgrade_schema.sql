-- pgq_ext.upgrade_schema() → int4
--
-- Bring tables of an older layout up to date; safe to run any number of times. pgq_ext 2.x
-- had no subconsumer_id: each table missing it gets the column (existing rows: '', a plain
-- consumer) and a primary key that includes it.
--
-- Result: the number of tables changed.
-- Tables written: the structure of pgq_ext.completed_tick, completed_batch, completed_event,
--   partial_batch.
create or replace function pgq_ext.upgrade_schema()
returns int4
language plpgsql
as $$
declare
  v_changes int4 := 0;
  v_table text;
  v_key text;
  v_pkey name;
begin
  for v_table, v_key in
    select t.name, t.key
      from (values ('completed_tick', 'consumer_id, subconsumer_id'),
                   ('completed_batch', 'consumer_id, subconsumer_id'),
                   ('completed_event', 'consumer_id, subconsumer_id, batch_id, event_id'),
                   ('partial_batch', 'consumer_id, subconsumer_id')) as t (name, key)
  loop
    perform 1
       from pg_catalog.pg_attribute a
      where a.attrelid = pg_catalog.format('pgq_ext.%I', v_table)::pg_catalog.regclass
        and a.attname = 'subconsumer_id'
        and not a.attisdropped;
    continue when found;

    execute pg_catalog.format(
      'alter table pgq_ext.%I add column subconsumer_id text not null default %L',
      v_table, '');
    select c.conname into v_pkey
      from pg_catalog.pg_constraint c
     where c.conrelid = pg_catalog.format('pgq_ext.%I', v_table)::pg_catalog.regclass
       and c.contype = 'p';
    if found then
      execute pg_catalog.format('alter table pgq_ext.%I drop constraint %I', v_table, v_pkey);
    end if;
    execute pg_catalog.format('alter table pgq_ext.%I add primary key (%s)', v_table, v_key);
    v_changes := v_changes + 1;
  end loop;
  return v_changes;
end;
$$;
