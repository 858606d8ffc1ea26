-- pgq._trigger_urlenc_ascii(val text) → text
--
-- pgq._urlencode() of a value that holds printable ASCII only (other characters are kept as
-- they are): a space becomes `+`, every character outside [A-Za-z0-9._-] `%xx`. Plain SQL, so
-- it is inlined into its callers (pgq._urlencode, pgq._trigger_urlenc_fast).
--
-- Parameters: val - the text to encode.
-- Result: the encoded text; NULL for NULL.
-- Tables written: none.
create or replace function pgq._trigger_urlenc_ascii(val text)
returns text
language sql
immutable
as $$
  -- '%' first, '+' before ' '; the rest in any order
  select
      replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
      replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
      replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        $1, '%', '%25'), '+', '%2b'), ' ', '+'), '!', '%21'), '"', '%22'), '#', '%23'),
        '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'),
        ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'),
        '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), E'\\', '%5c'), ']', '%5d'),
        '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e')
$$;
