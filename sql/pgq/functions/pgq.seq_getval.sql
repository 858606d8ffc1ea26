-- pgq.seq_getval(i_seq_name text) → bigint
--
-- Read the current `last_value` of a sequence without advancing it (nextval would).
--
-- Parameters: i_seq_name - sequence name; the part before the first dot is the schema
--             (no dot: schema `public`).
-- Result: the sequence's last_value.
-- Tables written: none.
create or replace function pgq.seq_getval(i_seq_name text)
returns bigint
language plpgsql
strict
as $$
declare
  v_value bigint;
begin
  execute pg_catalog.format('select last_value from %s', pgq.quote_fqname(i_seq_name))
    into v_value;
  return v_value;
end;
$$;
