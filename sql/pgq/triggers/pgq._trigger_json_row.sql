-- pgq._trigger_json_row(i_names text[], i_types oid[], i_vals text[], i_skip boolean[],
--                       i_json json) → text
--
-- One row as jsontriga's ev_data (and `backup` ev_extra2): a JSON object of the columns in
-- attnum order, without spaces. bool → true/false; int2, int4, int8 → numbers;
-- date, timestamp, timestamptz → strings as PostgreSQL's JSON output writes them (ISO
-- 8601 in the session time zone, e.g. `2009-09-19T11:59:48.599+00:00`), taken from i_json;
-- every other type (numeric, floats, json, arrays, ...) → JSON string of its text output;
-- NULL → null. Types are matched exactly: a domain over int4 is written as a string.
--
-- Parameters: i_names - column names; i_types - their declared type oids; i_vals - their
--   text values; i_skip - true for columns to leave out (NULL = keep); i_json - the row as
--   row_to_json() gives it (read only for date/time columns; NULL when there are none).
-- Result: the JSON text; `{}` when every column is left out.
-- Tables written: none.
create or replace function pgq._trigger_json_row(
  i_names text[], i_types oid[], i_vals text[], i_skip boolean[], i_json json)
returns text
language plpgsql
immutable
as $$
declare
  v_result text := '{';
  v_sep text := '';
  v_val text;
  v_type oid;
begin
  for i in 1 .. coalesce(pg_catalog.cardinality(i_names), 0) loop
    continue when i_skip[i];
    v_val := i_vals[i];
    v_type := i_types[i];
    v_result := v_result || v_sep || pg_catalog.to_json(i_names[i])::text || ':'
                || case
                     when v_val is null then 'null'
                     when v_type = 16 then case when v_val = 't' then 'true' else 'false' end
                     when v_type in (20, 21, 23) then v_val
                     when v_type in (1082, 1114, 1184) then
                       coalesce((i_json -> i_names[i])::text, pg_catalog.to_json(v_val)::text)
                     else pg_catalog.to_json(v_val)::text
                   end;
    v_sep := ',';
  end loop;
  return v_result || '}';
end;
$$;
