-- pgq._trigger_urlenc_bytes(i_val text) → text
--
-- The general case of pgq._urlencode(): runs of [A-Za-z0-9._-] are kept, every other
-- character becomes `%xx` per byte of its UTF-8 form (lower case hex), a space `+`.
-- pgq._urlencode() calls it only for values with control or non-ASCII characters.
--
-- Parameters: i_val - the text to encode.
-- Result: the encoded text; NULL for NULL.
-- Tables written: none.
create or replace function pgq._trigger_urlenc_bytes(i_val text)
returns text
language plpgsql
immutable
strict
as $$
begin
  return (
    select coalesce(pg_catalog.string_agg(
             case
               when r.m[1] is not null then r.m[1]
               else pg_catalog.replace(
                      pg_catalog.regexp_replace(
                        pg_catalog.encode(pg_catalog.convert_to(r.m[2], 'UTF8'), 'hex'),
                        '(..)', '%\1', 'g'),
                      '%20', '+')
             end,
             '' order by r.o), '')
      from pg_catalog.regexp_matches(i_val, '([A-Za-z0-9._-]+)|([^A-Za-z0-9._-]+)', 'g')
           with ordinality as r(m, o));
end;
$$;
