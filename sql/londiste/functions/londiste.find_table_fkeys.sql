-- londiste.find_table_fkeys(i_table_name text) → setof londiste.pending_fkeys
--
-- The foreign keys from and to a table, each with the statement that re-creates it:
-- `alter table only <from> add constraint <name> <definition>`. Table names in stored form
-- (`schema.name`, case kept); no such table gives no rows.
--
-- Tables written: none.
create or replace function londiste.find_table_fkeys(i_table_name text)
returns setof londiste.pending_fkeys
language sql
strict
stable
as $$
  select fk.from_table, fk.to_table, fk.fkey_name,
         pg_catalog.format('alter table only %s add constraint %I %s',
                           londiste.quote_fqname(fk.from_table), fk.fkey_name,
                           pg_catalog.pg_get_constraintdef(fk.con_oid))
    from (select fn.nspname || '.' || f.relname as from_table,
                 tn.nspname || '.' || t.relname as to_table,
                 c.conname::text as fkey_name,
                 c.oid as con_oid
            from pg_catalog.pg_constraint c
            join pg_catalog.pg_class f on f.oid = c.conrelid
            join pg_catalog.pg_namespace fn on fn.oid = f.relnamespace
            join pg_catalog.pg_class t on t.oid = c.confrelid
            join pg_catalog.pg_namespace tn on tn.oid = t.relnamespace
           where c.contype = 'f'
             and londiste.find_table_oid(londiste.make_fqname(i_table_name)) in (c.conrelid, c.confrelid)
         ) fk
   order by fk.from_table, fk.to_table, fk.fkey_name
$$;
