-- londiste.find_column_types(tbl text) → text
--
-- One letter per live column of the table, in column order: 'k' for a primary key column,
-- 'v' for any other. The shape the pgq triggers take as their pkey description. An empty
-- string when there is no such table (as upstream).
--
-- Tables written: none.
create or replace function londiste.find_column_types(tbl text)
returns text
language sql
strict
stable
as $$
  select coalesce(pg_catalog.string_agg(
           case when exists (select 1 from pg_catalog.pg_index i
                              where i.indrelid = a.attrelid and i.indisprimary
                                and a.attnum = any (i.indkey))
                then 'k' else 'v' end,
           '' order by a.attnum), '')
    from pg_catalog.pg_attribute a
   where a.attrelid = londiste.find_table_oid(tbl)
     and a.attnum > 0 and not a.attisdropped
$$;
