-- londiste.is_obsolete_partition(i_partition_table text, i_retention_period interval,
--   i_partition_period text) → boolean
--
-- Whether a time partition is past its retention, judged by its name alone: the name ends in
-- `_YYYY` (year), `_YYYY_MM` (month), `_YYYY_MM_DD` (day) or `_YYYY_MM_DD_HH24` (hour), and
-- that period started before the period that holds now() - i_retention_period. The table
-- need not exist.
--
-- Parameters: i_partition_period - hour, day, month or year, or hourly, daily, monthly, yearly.
-- Result: true/false; NULL when the name has no such suffix; false when the retention is NULL.
-- Errors: 'not supported i_partition_period: <period>' for any other period.
-- Tables written: none.
create or replace function londiste.is_obsolete_partition(
  i_partition_table text,
  i_retention_period interval,
  i_partition_period text)
returns boolean
language plpgsql
as $$
declare
  v_format text;
  v_pattern text;
  v_suffix text;
begin
  if i_partition_period in ('year', 'yearly') then
    v_format := 'YYYY';
    v_pattern := '_([0-9]{4})$';
  elsif i_partition_period in ('month', 'monthly') then
    v_format := 'YYYY_MM';
    v_pattern := '_([0-9]{4}_[0-9]{2})$';
  elsif i_partition_period in ('day', 'daily') then
    v_format := 'YYYY_MM_DD';
    v_pattern := '_([0-9]{4}_[0-9]{2}_[0-9]{2})$';
  elsif i_partition_period in ('hour', 'hourly') then
    v_format := 'YYYY_MM_DD_HH24';
    v_pattern := '_([0-9]{4}_[0-9]{2}_[0-9]{2}_[0-9]{2})$';
  else
    raise exception 'not supported i_partition_period: %', i_partition_period
      using hint = 'use hour, day, month or year (or hourly, daily, monthly, yearly)';
  end if;
  v_suffix := pg_catalog.substring(i_partition_table, v_pattern);
  if v_suffix is null then
    return null;
  end if;
  -- Same-width digit fields: text order is time order.
  if v_suffix < pg_catalog.to_char(pg_catalog.now() - i_retention_period, v_format) then
    return true;
  end if;
  return false;
end;
$$;
