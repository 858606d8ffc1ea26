-- Privileges of schema pgq_coop, declared in one place. Re-runnable.
-- PUBLIC may call version() and skytools_version(); role pgq_reader (created by schema pgq)
-- gets everything else. The grants are skipped when the role does not exist (a managed server
-- where the installer may not create roles: installing pgq printed what an administrator must
-- run, and a re-install completes them).

grant usage on schema pgq_coop to public;
revoke all on all functions in schema pgq_coop from public;

do $grants$
declare
  public_functions text[] := array['pgq_coop.version()', 'pgq_coop.skytools_version()'];
  reader_functions text[] := array[
    'pgq_coop.register_subconsumer(text, text, text)',
    'pgq_coop.unregister_subconsumer(text, text, text, integer)',
    'pgq_coop.next_batch(text, text, text)',
    'pgq_coop.next_batch(text, text, text, interval)',
    'pgq_coop.next_batch_custom(text, text, text, interval, integer, interval)',
    'pgq_coop.next_batch_custom(text, text, text, interval, integer, interval, interval)',
    'pgq_coop.finish_batch(bigint)'];
  fn text;
begin
  foreach fn in array public_functions loop
    execute format('grant execute on function %s to public', fn::regprocedure);
  end loop;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_reader') then
    foreach fn in array reader_functions loop
      execute format('grant execute on function %s to pgq_reader', fn::regprocedure);
    end loop;
  end if;
end
$grants$;
