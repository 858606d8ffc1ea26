-- londiste.get_table_pending_fkeys(i_table_name text) → setof londiste.pending_fkeys
--
-- The dropped foreign keys waiting to be restored that are from or to the table (stored
-- form `schema.name`, exact).
--
-- Tables written: none.
create or replace function londiste.get_table_pending_fkeys(i_table_name text)
returns setof londiste.pending_fkeys
language sql
strict
stable
as $$
  select p.*
    from londiste.pending_fkeys p
   where p.from_table = i_table_name or p.to_table = i_table_name
   order by p.from_table, p.fkey_name
$$;
