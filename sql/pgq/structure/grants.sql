-- Privileges of schema pgq, declared in one place (§1.6). Re-runnable.
-- PUBLIC keeps only the read-only info functions; the three roles get the rest. Grants to a
-- role are skipped when the role does not exist (a managed server where the installer may not
-- create roles): pgq.upgrade_schema() has then printed what an administrator must run, and a
-- later re-install completes the grants.

grant usage on schema pgq to public;
revoke all on all functions in schema pgq from public;
revoke all on pgq.consumer, pgq.queue, pgq.tick, pgq.subscription, pgq.event_template,
  pgq.retry_queue from public;
grant select on pgq.consumer, pgq.queue, pgq.tick, pgq.subscription to public;
-- Every producer reads pgqd's wake-up flag (pgq.insert_event_raw runs as the caller).
revoke all on sequence pgq.ticker_wakeup from public;
grant select on sequence pgq.ticker_wakeup to public;

do $grants$
declare
  public_functions text[] := array[
    'pgq.seq_getval(text)', 'pgq.get_queue_info()', 'pgq.get_queue_info(text)',
    'pgq.get_consumer_info()', 'pgq.get_consumer_info(text)', 'pgq.get_consumer_info(text, text)',
    'pgq.quote_fqname(text)', 'pgq.version()', 'pgq.skytools_version()'];
  reader_functions text[] := array[
    'pgq.batch_event_sql(bigint)', 'pgq.batch_event_tables(bigint)',
    'pgq.find_tick_helper(integer, bigint, timestamptz, bigint, bigint, interval)',
    'pgq.register_consumer(text, text)', 'pgq.register_consumer_at(text, text, bigint)',
    'pgq.unregister_consumer(text, text)', 'pgq.next_batch_info(text, text)',
    'pgq.next_batch(text, text)', 'pgq.next_batch_custom(text, text, interval, integer, interval)',
    'pgq.get_batch_events(bigint)', 'pgq.get_batch_info(bigint)',
    'pgq.get_batch_cursor(bigint, text, integer, text)', 'pgq.get_batch_cursor(bigint, text, integer)',
    'pgq.event_retry(bigint, bigint, timestamptz)', 'pgq.event_retry(bigint, bigint, integer)',
    'pgq.batch_retry(bigint, integer)', 'pgq.force_tick(text)', 'pgq.finish_batch(bigint)'];
  writer_functions text[] := array[
    'pgq.insert_event(text, text, text)',
    'pgq.insert_event(text, text, text, text, text, text, text)',
    'pgq.insert_events(text, text[], text[], text[], text[], text[], text[])',
    'pgq.current_event_table(text)', 'pgq.jsontriga()', 'pgq.sqltriga()', 'pgq.logutriga()'];
  admin_functions text[] := array[
    'pgq.ticker(text, bigint, timestamptz, bigint)', 'pgq.ticker(text)', 'pgq.ticker()',
    'pgq.ticker_pass(interval)', 'pgq.ticker_pass(interval, text[], interval)',
    'pgq.maint_retry_events()', 'pgq.maint_rotate_tables_step1(text)',
    'pgq.maint_rotate_tables_step2()', 'pgq.maint_tables_to_vacuum()', 'pgq.maint_operations()',
    'pgq.upgrade_schema()', 'pgq.grant_perms(text)', 'pgq._grant_perms_from(text, text, text, text)',
    'pgq.tune_storage(text)', 'pgq.seq_setval(text, bigint)', 'pgq.create_queue(text)',
    'pgq.drop_queue(text, boolean)', 'pgq.drop_queue(text)',
    'pgq.set_queue_config(text, text, text)',
    'pgq.insert_event_raw(text, bigint, timestamptz, integer, integer, text, text, text, text, text, text)',
    'pgq.event_retry_raw(text, text, timestamptz, bigint, timestamptz, integer, text, text, text, text, text, text)'];
  fn text;
  internal regprocedure;
begin
  foreach fn in array public_functions loop
    execute format('grant execute on function %s to public', fn::regprocedure);
  end loop;
  -- Internal helpers (names starting with "_") do nothing privileged on their own; trigger
  -- code run by the writing user calls them. Not those that change grants or functions.
  for internal in
    select p.oid::regprocedure from pg_catalog.pg_proc p
     where p.pronamespace = 'pgq'::regnamespace and p.proname like '\_%'
       and p.proname not in ('_grant_perms_from', '_generate_insert_functions',
                             '_write_insert_slot')
  loop
    execute format('grant execute on function %s to public', internal);
  end loop;

  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_reader') then
    foreach fn in array reader_functions loop
      execute format('grant execute on function %s to pgq_reader', fn::regprocedure);
    end loop;
    grant select on pgq.consumer, pgq.queue, pgq.tick, pgq.subscription, pgq.event_template,
      pgq.retry_queue to pgq_reader;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_writer') then
    foreach fn in array writer_functions loop
      execute format('grant execute on function %s to pgq_writer', fn::regprocedure);
    end loop;
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_admin') then
    foreach fn in array admin_functions loop
      execute format('grant execute on function %s to pgq_admin', fn::regprocedure);
    end loop;
    grant select, insert, update, delete on pgq.consumer, pgq.queue, pgq.tick,
      pgq.subscription to pgq_admin;
    grant select, insert, truncate on pgq.event_template to pgq_admin;
    grant select, insert, update, delete, truncate on pgq.retry_queue to pgq_admin;
    grant usage on sequence pgq.batch_id_seq, pgq.consumer_co_id_seq, pgq.queue_queue_id_seq,
      pgq.subscription_sub_id_seq to pgq_admin;
  end if;
end
$grants$;
