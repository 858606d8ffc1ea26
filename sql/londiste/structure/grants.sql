-- Privileges of schema londiste, declared in one place. Re-runnable.
-- PUBLIC may call version(), skytools_version() and the name helpers (as upstream: they read
-- only the catalog). londiste_reader (and pgq_admin, which
-- manages nodes) read the tables and get the functions that only read; londiste_writer (a
-- member of pgq_admin) and pgq_admin get every function. Grants to a role are skipped when
-- the role does not exist (see structure/roles.sql).

grant usage on schema londiste to public;
revoke all on all functions in schema londiste from public;
revoke all on londiste.table_info, londiste.seq_info, londiste.applied_execute,
  londiste.pending_fkeys from public;

do $grants$
declare
  public_functions text[] := array['londiste.version()', 'londiste.skytools_version()',
    'londiste.find_column_types(text)', 'londiste.find_rel_oid(text,text)',
    'londiste.find_seq_oid(text)', 'londiste.find_table_oid(text)',
    'londiste.find_table_fkeys(text)', 'londiste.make_fqname(text)',
    'londiste.quote_fqname(text)', 'londiste.split_fqname(text)'];
  -- Functions that only read: everything whose name says so, and the name helpers.
  reader_pattern text := '^(get_|find_|local_show_missing$|is_|quote_fqname$|make_fqname$|split_fqname$|version$|skytools_version$|_coordinate_copy$|list_obsolete_partitions$)';
  public_fn text;
  fn record;
begin
  foreach public_fn in array public_functions loop
    execute format('grant execute on function %s to public', public_fn::regprocedure);
  end loop;
  for fn in
    select p.oid::regprocedure as signature, p.proname
      from pg_catalog.pg_proc p
     where p.pronamespace = 'londiste'::regnamespace
  loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_admin') then
      execute format('grant execute on function %s to pgq_admin', fn.signature);
    end if;
    if exists (select 1 from pg_catalog.pg_roles where rolname = 'londiste_writer') then
      execute format('grant execute on function %s to londiste_writer', fn.signature);
    end if;
    if fn.proname ~ reader_pattern
       and exists (select 1 from pg_catalog.pg_roles where rolname = 'londiste_reader') then
      execute format('grant execute on function %s to londiste_reader', fn.signature);
    end if;
  end loop;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'londiste_reader') then
    grant select on londiste.table_info, londiste.seq_info, londiste.applied_execute,
      londiste.pending_fkeys to londiste_reader;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_admin') then
    grant select, insert, update, delete on londiste.table_info, londiste.seq_info,
      londiste.applied_execute, londiste.pending_fkeys to pgq_admin;
    grant usage on londiste.table_info_nr_seq, londiste.seq_info_nr_seq to pgq_admin;
  end if;
end
$grants$;
