-- pgq._urlencode(val text) → text
--
-- Urlencode one value the way the pgq triggers write ev_data: characters [A-Za-z0-9._-] are
-- kept, a space becomes `+`, every other byte of the value's UTF-8 form becomes `%xx`
-- (lower case hex). Upstream has this helper only in its PL/pgSQL trigger variant.
-- A plain SQL expression, so that callers get it inlined: values of safe characters come
-- back as they are, printable ASCII is encoded by replace(), anything else goes to
-- pgq._trigger_urlenc_bytes().
--
-- Parameters: val - the text to encode.
-- Result: the encoded text; NULL for NULL.
-- Tables written: none.
create or replace function pgq._urlencode(val text)
returns text
language sql
immutable
as $$
  select case
    when $1 ~ '^[A-Za-z0-9._-]*$' then $1
    when $1 ~ '^[ -~]*$' then
      -- '%' first, '+' before ' '; the rest in any order
      replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
      replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
      replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(
        $1, '%', '%25'), '+', '%2b'), ' ', '+'), '!', '%21'), '"', '%22'), '#', '%23'),
        '$', '%24'), '&', '%26'), '''', '%27'), '(', '%28'), ')', '%29'), '*', '%2a'),
        ',', '%2c'), '/', '%2f'), ':', '%3a'), ';', '%3b'), '<', '%3c'), '=', '%3d'),
        '>', '%3e'), '?', '%3f'), '@', '%40'), '[', '%5b'), E'\\', '%5c'), ']', '%5d'),
        '^', '%5e'), '`', '%60'), '{', '%7b'), '|', '%7c'), '}', '%7d'), '~', '%7e')
    else pgq._trigger_urlenc_bytes($1)
  end
$$;
