-- Privileges of schema pgq_ext, declared in one place. Re-runnable.
-- PUBLIC may call version() and skytools_version(); role pgq_writer gets every other function
-- (the full forms run as the schema owner, so nobody needs rights on the tables). Skipped when
-- the role does not exist (see structure/roles.sql).

grant usage on schema pgq_ext to public;
revoke all on all functions in schema pgq_ext from public;
revoke all on pgq_ext.completed_tick, pgq_ext.completed_batch, pgq_ext.completed_event,
  pgq_ext.partial_batch from public;

do $grants$
declare
  public_functions text[] := array['pgq_ext.version()', 'pgq_ext.skytools_version()'];
  writer_functions text[] := array[
    'pgq_ext.is_batch_done(text, text, bigint)', 'pgq_ext.is_batch_done(text, bigint)',
    'pgq_ext.set_batch_done(text, text, bigint)', 'pgq_ext.set_batch_done(text, bigint)',
    'pgq_ext.is_event_done(text, text, bigint, bigint)',
    'pgq_ext.is_event_done(text, bigint, bigint)',
    'pgq_ext.set_event_done(text, text, bigint, bigint)',
    'pgq_ext.set_event_done(text, bigint, bigint)',
    'pgq_ext.get_last_tick(text, text)', 'pgq_ext.get_last_tick(text)',
    'pgq_ext.set_last_tick(text, text, bigint)', 'pgq_ext.set_last_tick(text, bigint)',
    'pgq_ext.upgrade_schema()'];
  fn text;
begin
  foreach fn in array public_functions loop
    execute format('grant execute on function %s to public', fn::regprocedure);
  end loop;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_writer') then
    foreach fn in array writer_functions loop
      execute format('grant execute on function %s to pgq_writer', fn::regprocedure);
    end loop;
  end if;
end
$grants$;
