-- Roles of schema londiste: londiste_writer (a member of pgq_admin: it runs the worker and
-- the admin commands) and londiste_reader (a member of pgq_reader: it reads table and
-- sequence lists, e.g. a compare run from another node). A role that may not create roles
-- gets a NOTICE with the statements an administrator must run; the grants then wait for a
-- re-install.

do $roles$
declare
  wanted text[][] := array[['londiste_writer', 'pgq_admin'], ['londiste_reader', 'pgq_reader']];
  i int;
begin
  for i in 1 .. pg_catalog.array_length(wanted, 1) loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = wanted[i][1]) then
      begin
        execute pg_catalog.format('create role %I', wanted[i][1]);
      exception
        when insufficient_privilege then
          raise notice 'londiste role missing; an administrator must run: create role %; grant % to %;',
            wanted[i][1], wanted[i][2], wanted[i][1]
            using detail = pg_catalog.format('role %s may not create roles', current_user),
                  hint = 'then install londiste again to grant it the functions';
          continue;
        when duplicate_object or unique_violation then
          null;
      end;
    end if;
    if exists (select 1 from pg_catalog.pg_roles where rolname = wanted[i][2])
       and not pg_catalog.pg_has_role(wanted[i][1], wanted[i][2], 'member') then
      begin
        execute pg_catalog.format('grant %I to %I', wanted[i][2], wanted[i][1]);
      exception
        when insufficient_privilege then
          raise notice 'londiste role grant missing; an administrator must run: grant % to %;',
            wanted[i][2], wanted[i][1];
      end;
    end if;
  end loop;
end
$roles$;
