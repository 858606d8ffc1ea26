-- pgq.seq_setval(i_seq_name text, i_new_value int8) → bigint
--
-- Move a sequence forward to a value; never moves it backwards.
--
-- Parameters: i_seq_name  - sequence name (`schema.name`, or `name` in schema public);
--             i_new_value - the wanted value.
-- Result: the value the sequence has afterwards (i_new_value, or its current value when that
--         is already greater or equal).
-- Tables written: the sequence.
create or replace function pgq.seq_setval(i_seq_name text, i_new_value int8)
returns bigint
language plpgsql
strict
as $$
declare
  v_current bigint;
begin
  v_current := pgq.seq_getval(i_seq_name);
  if v_current >= i_new_value then
    return v_current;
  end if;
  perform pg_catalog.setval(pgq.quote_fqname(i_seq_name)::pg_catalog.regclass, i_new_value);
  return i_new_value;
end;
$$;
