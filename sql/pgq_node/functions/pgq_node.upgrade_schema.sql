-- pgq_node.upgrade_schema() → int4
--
-- Bring installed tables up to date; safe to run any number of times. Today that is
-- pgq_node.node_info.node_attrs, which installs made before node attributes lack.
--
-- Result: the number of changes made.
-- Tables written: pgq_node.node_info (structure).
create or replace function pgq_node.upgrade_schema()
returns int4
language plpgsql
as $$
declare
  v_changes int4 := 0;
begin
  perform 1
     from pg_catalog.pg_attribute
    where attrelid = 'pgq_node.node_info'::pg_catalog.regclass
      and attname = 'node_attrs'
      and not attisdropped;
  if not found then
    alter table pgq_node.node_info add column node_attrs text;
    v_changes := v_changes + 1;
  end if;
  return v_changes;
end;
$$;
