-- pgq._trigger_urlenc_fast(i_row text, i_seps integer) → text
--
-- The urlencoded row of logutriga's generated code in one pass: the generated code joins the
-- (already encoded) column names and the raw values with two control characters, E'\x01'
-- between columns and E'\x02' between a name and its value (none for a NULL), and this
-- encodes the values and turns the separators into `&` and `=`. A plain SQL expression, so
-- the planner inlines it into the caller's statement. Written for the cost of a row in an
-- autocommit statement, where PL/pgSQL sets up each expression again in every transaction:
-- few nodes, byte-wise functions (replace, octet_length) rather than character-wise ones
-- (translate, length), one regular expression; the characters common in values (space, and
-- `%+:,/@&=?` of times, numbers, addresses, lists) encoded here, the rest in a function
-- called only for rows that have them.
--
-- Parameters: i_row - names and values joined as above; i_seps - how many separators the
--   generated code put in (columns - 1 + non-NULL values).
-- Result: the encoded row, as pgq._trigger_urlenc_row() writes it; NULL when a value holds
--   one of the separator characters itself (the count differs) or a character outside
--   printable ASCII: the caller then encodes column by column.
-- Tables written: none.
-- pgq._trigger_urlenc_rare(i_row text) → text
-- (Defined first: pgq._trigger_urlenc_fast, below, calls it.)
-- pgq._trigger_urlenc_fast() for a row with printable ASCII characters other than the common
-- ones it encodes itself; NULL when it holds other characters. A function of its own (not
-- inlined), so that the common case does not set up the long expression in every
-- transaction.
create or replace function pgq._trigger_urlenc_rare(i_row text)
returns text
language plpgsql
immutable
strict
as $$
begin
  if i_row ~ '[^\x01\x02 -~]' then
    return null;
  end if;
  return pg_catalog.replace(pg_catalog.replace(pgq._trigger_urlenc_ascii(i_row), E'\x01', '&'),
                            E'\x02', '=');
end;
$$;

create or replace function pgq._trigger_urlenc_fast(i_row text, i_seps integer)
returns text
language sql
immutable
as $$
  select case
    when pg_catalog.octet_length($1)
         - pg_catalog.octet_length(pg_catalog.replace(pg_catalog.replace($1, E'\x01', ''), E'\x02', ''))
         <> $2 then null
    when $1 ~ '[^-\x01\x02 %&+,./0-9:=?@A-Z_a-z]' then pgq._trigger_urlenc_rare($1)
    -- '%' first, '+' before ' '
    else pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
           pg_catalog.replace(pg_catalog.replace(
             $1, '%', '%25'), '+', '%2b'), ' ', '+'), ':', '%3a'), ',', '%2c'), '/', '%2f'),
             '@', '%40'), '&', '%26'), '=', '%3d'), '?', '%3f'),
           E'\x01', '&'), E'\x02', '=')
  end
$$;
