-- pgq._grant_perms_from(src_schema text, src_table text, dst_schema text, dst_table text)
--   → integer
--
-- Copy the table privileges of one table to another: every grant on the source (to PUBLIC
-- or a role, with its grant option) is made on the destination too. Privileges of the
-- destination's owner are left alone (the owner has them all).
--
-- Parameters: src_schema, src_table - table whose privileges are copied;
--             dst_schema, dst_table - table that receives them.
-- Result: 1.
-- Tables written: privileges of the destination table.
create or replace function pgq._grant_perms_from(
  src_schema text, src_table text, dst_schema text, dst_table text)
returns integer
language plpgsql
strict
as $$
declare
  v_dst_owner oid;
  v_grant record;
begin
  select c.relowner
    into v_dst_owner
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = dst_schema
     and c.relname = dst_table;

  for v_grant in
    select a.grantee, a.privilege_type, a.is_grantable
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace,
           pg_catalog.aclexplode(c.relacl) a
     where n.nspname = src_schema
       and c.relname = src_table
     order by a.grantee, a.privilege_type
  loop
    continue when v_grant.grantee = v_dst_owner;
    execute pg_catalog.format(
      'grant %s on table %I.%I to %s%s',
      v_grant.privilege_type, dst_schema, dst_table,
      case when v_grant.grantee = 0 then 'public'
           else pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(v_grant.grantee)) end,
      case when v_grant.is_grantable then ' with grant option' else '' end);
  end loop;
  return 1;
end;
$$;
