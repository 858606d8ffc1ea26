-- pgq._trigger_list_has(i_list text, i_name text) → boolean
--
-- Whether a column name appears in the column list of a trigger argument (`ignore=`,
-- `pkey=`), matched the way PgQ's C triggers match: the exact, case-sensitive name, with a
-- comma, whitespace or the end of the list on both sides. `a, b` and `a b` both list a and b.
--
-- Parameters: i_list - the argument text after `ignore=` / `pkey=`; i_name - column name.
-- Result: true when listed; NULL when the list is NULL.
-- Tables written: none.
create or replace function pgq._trigger_list_has(i_list text, i_name text)
returns boolean
language sql
immutable
as $$
  select case
    when $2 !~ '[ \t\n\r\f\v,]' then
      $2 = any (pg_catalog.regexp_split_to_array($1, '[ \t\n\r\f\v,]+'))
    else
      -- a name that itself holds a separator: look for it between separators
      $1 ~ ('(^|[ \t\n\r\f\v,])'
            || pg_catalog.regexp_replace($2, '([!-/:-@\[-`{-~])', '\\\1', 'g')
            || '($|[ \t\n\r\f\v,])')
  end
$$;
