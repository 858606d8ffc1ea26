-- pgq._trigger_row_values(i_row text) → text[]
--
-- Split the text form of a table row (`row::text`, e.g. `(1,"a b",,"")`) into the text
-- output of each column, NULL for NULL. A row's text form holds each live column's type
-- output in attnum order (dropped columns are left out), so element i belongs to the i-th
-- live column. This is how the pgq triggers read a whole row in one step instead of one
-- dynamic statement per column.
--
-- Format read: fields separated by commas; an empty unquoted field is NULL; a field holding
-- a comma, quote, backslash, parenthesis or white space, or an empty string, is quoted with
-- `"`, its quotes and backslashes doubled. An unquoted field never holds a quote.
--
-- Parameters: i_row - text of a composite value.
-- Result: one element per column (a shorter array reads as NULLs past its end); NULL for
--   NULL.
-- Tables written: none.
create or replace function pgq._trigger_row_values(i_row text)
returns text[]
language plpgsql
immutable
strict
as $$
declare
  v_parts text[];
  v_part text;
  v_start integer;            -- first part of a quoted field being read
  v_quotes integer;           -- quotes seen in it so far
  v_field text;
  v_result text[] := '{}';
begin
  v_parts := pg_catalog.string_to_array(
               pg_catalog.substr(i_row, 2, pg_catalog.length(i_row) - 2), ',');
  if pg_catalog.strpos(i_row, '"') = 0 then
    return pg_catalog.array_replace(v_parts, '', null);
  end if;
  for i in 1 .. coalesce(pg_catalog.cardinality(v_parts), 0) loop
    v_part := v_parts[i];
    if v_start is null then
      if pg_catalog.left(v_part, 1) <> '"' then
        v_result := v_result || nullif(v_part, '');
        continue;
      end if;
      v_start := i;
      v_quotes := 0;
    end if;
    -- Inside quotes, quotes come in pairs: the field is complete when it ends with a quote
    -- and holds an even number of them (opening, pairs, closing).
    v_quotes := v_quotes + pg_catalog.length(v_part)
                - pg_catalog.length(pg_catalog.replace(v_part, '"', ''));
    if v_quotes % 2 = 0 and pg_catalog.right(v_part, 1) = '"' then
      v_field := pg_catalog.array_to_string(v_parts[v_start:i], ',');
      v_result := v_result || pg_catalog.replace(
                    pg_catalog.replace(
                      pg_catalog.substr(v_field, 2, pg_catalog.length(v_field) - 2),
                      E'\\\\', E'\\'),
                    '""', '"');
      v_start := null;
    end if;
  end loop;
  return v_result;
end;
$$;
