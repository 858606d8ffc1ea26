-- londiste.find_seq_oid(seq text) → oid
--
-- The oid of a sequence by its stored name (`schema.name`); NULL when there is no such
-- sequence.
--
-- Tables written: none.

-- An early revision named the parameter i_name; a parameter name cannot be changed in place.
do $rename$
begin
  if (select p.proargnames from pg_catalog.pg_proc p
       where p.oid = pg_catalog.to_regprocedure('londiste.find_seq_oid(text)'))
     is distinct from array['seq'] then
    drop function if exists londiste.find_seq_oid(text);
  end if;
end
$rename$;

create or replace function londiste.find_seq_oid(seq text)
returns oid
language sql
strict
stable
as $$
  select londiste.find_rel_oid(seq, 'S')
$$;
