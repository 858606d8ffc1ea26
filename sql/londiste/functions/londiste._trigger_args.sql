-- londiste._trigger_args(i_tgargs bytea, i_nargs int2) → text[]
--
-- The arguments of a trigger as text, from pg_trigger.tgargs (each argument followed by a
-- zero byte). Private: create_trigger compares and searches trigger arguments with it.
--
-- Tables written: none.
create or replace function londiste._trigger_args(i_tgargs bytea, i_nargs int2)
returns text[]
language plpgsql
immutable
strict
as $$
declare
  rest bytea := i_tgargs;
  args text[] := '{}';
  stop int4;
begin
  for i in 1 .. i_nargs loop
    stop := position('\x00'::bytea in rest);
    args := args || pg_catalog.convert_from(substring(rest from 1 for stop - 1),
                                           pg_catalog.getdatabaseencoding());
    rest := substring(rest from stop + 1);
  end loop;
  return args;
end;
$$;
