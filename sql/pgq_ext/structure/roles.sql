-- Role pgq_writer, which calls pgq_ext's functions. Schema pgq creates it too; pgq_ext often
-- goes into a target database without pgq, so it is created here when missing. A role that
-- may not create roles gets a NOTICE with the statement an administrator must run; the grants
-- to pgq_writer then wait for a re-install.

do $roles$
begin
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_writer') then
    return;
  end if;
  begin
    create role pgq_writer;
  exception
    when insufficient_privilege then
      raise notice 'pgq_ext role missing; an administrator must run: create role pgq_writer;'
        using detail = pg_catalog.format('role %s may not create roles', current_user),
              hint = 'then install pgq_ext again to grant it the functions';
    when duplicate_object or unique_violation then
      null;
  end;
end
$roles$;
