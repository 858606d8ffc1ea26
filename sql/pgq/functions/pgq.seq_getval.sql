-- pgq.seq_getval(i_seq_name text) → bigint
--
-- Read the current `last_value` of a sequence without advancing it (nextval would).
--
-- Parameters: i_seq_name - sequence name; the part before the first dot is the schema
--             (no dot: schema `public`).
-- Result: the sequence's last_value.
-- Tables written: none.
--
-- pgq.ticker and pgqd's ticker_pass read every queue's event sequence on every pass, so the
-- common case avoids dynamic SQL: pg_sequence_last_value() answers unless the sequence has
-- no value handed out yet (NULL), where only reading the sequence row tells last_value, or
-- the name does not resolve.
create or replace function pgq.seq_getval(i_seq_name text)
returns bigint
language plpgsql
strict
as $$
declare
  v_seq pg_catalog.regclass := pg_catalog.to_regclass(pgq.quote_fqname(i_seq_name));
  v_value bigint;
begin
  if v_seq is not null then
    v_value := pg_catalog.pg_sequence_last_value(v_seq);
  end if;
  if v_value is null then
    -- Also the path of a missing sequence: its error is the SELECT's, as upstream's.
    execute pg_catalog.format('select last_value from %s', pgq.quote_fqname(i_seq_name))
      into v_value;
  end if;
  return v_value;
end;
$$;
