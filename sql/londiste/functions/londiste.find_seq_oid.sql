-- londiste.find_seq_oid(i_name text) → oid
--
-- The oid of a sequence by its stored name; raises when there is no such sequence.
--
-- Tables written: none.
create or replace function londiste.find_seq_oid(i_name text)
returns oid
language sql
stable
as $$
  select londiste.find_rel_oid(i_name, 'S')
$$;
