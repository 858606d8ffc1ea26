-- londiste.drop_obsolete_partitions(i_parent_table text, i_retention_period interval,
--   i_partition_period text) → setof text
--
-- Drop the partitions londiste.list_obsolete_partitions lists (plain DROP TABLE: a table
-- that something else depends on stops the whole call) and return their names.
--
-- Errors: as list_obsolete_partitions; a dependent object (a view, ...) of a partition.
-- Tables written: drops the partitions.
create or replace function londiste.drop_obsolete_partitions(
  i_parent_table text,
  i_retention_period interval,
  i_partition_period text)
returns setof text
language plpgsql
as $$
declare
  v_part text;
begin
  for v_part in
    select l.part
      from londiste.list_obsolete_partitions(i_parent_table, i_retention_period,
                                             i_partition_period) as l(part)
  loop
    execute 'drop table ' || v_part;
    return next v_part;
  end loop;
end;
$$;
