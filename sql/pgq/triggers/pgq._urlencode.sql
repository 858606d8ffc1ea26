-- pgq._urlencode(val text) → text
--
-- Urlencode one value the way the pgq triggers write ev_data: characters [A-Za-z0-9._-] are
-- kept, a space becomes `+`, every other byte of the value's UTF-8 form becomes `%xx`
-- (lower case hex). Upstream has this helper only in its PL/pgSQL trigger variant.
-- A plain SQL expression, so that callers get it inlined: values of safe characters come
-- back as they are, printable ASCII is encoded by pgq._trigger_urlenc_ascii(), anything else goes to
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
    when $1 ~ '^[ -~]*$' then pgq._trigger_urlenc_ascii($1)
    else pgq._trigger_urlenc_bytes($1)
  end
$$;
