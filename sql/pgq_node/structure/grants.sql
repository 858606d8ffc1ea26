-- Privileges of schema pgq_node, declared in one place (§2.2). Re-runnable.
-- PUBLIC may only ask what a node is; readers (remote workers of subscribers) get the
-- provider-side functions, writers also the functions of consumers that write into this
-- node, admins everything. Grants to a role are skipped when the role does not exist (see
-- pgq's grants.sql: pgq.upgrade_schema() has printed what an administrator must run).

grant usage on schema pgq_node to public;
revoke all on all functions in schema pgq_node from public;
revoke all on pgq_node.node_location, pgq_node.node_info, pgq_node.local_state,
  pgq_node.subscriber_info from public;

do $grants$
declare
  public_functions text[] := array[
    'pgq_node.is_root_node(text)', 'pgq_node.is_leaf_node(text)', 'pgq_node.version()',
    'pgq_node.skytools_version()'];
  remote_functions text[] := array[
    'pgq_node.get_consumer_info(text)', 'pgq_node.get_consumer_state(text, text)',
    'pgq_node.get_queue_locations(text)', 'pgq_node.get_node_info(text)',
    'pgq_node.get_subscriber_info(text)',
    'pgq_node.register_subscriber(text, text, text, bigint)',
    'pgq_node.unregister_subscriber(text, text)',
    'pgq_node.set_subscriber_watermark(text, text, bigint)'];
  consumer_functions text[] := array[
    'pgq_node.register_consumer(text, text, text, bigint)',
    'pgq_node.unregister_consumer(text, text)',
    'pgq_node.change_consumer_provider(text, text, text)',
    'pgq_node.set_consumer_uptodate(text, text, boolean)',
    'pgq_node.set_consumer_paused(text, text, boolean)',
    'pgq_node.set_consumer_completed(text, text, bigint)',
    'pgq_node.set_consumer_error(text, text, text)'];
  admin_functions text[] := array[
    'pgq_node.create_node(text, text, text, text, text, bigint, text)',
    'pgq_node.drop_node(text, text)', 'pgq_node.demote_root(text, integer, text)',
    'pgq_node.promote_branch(text)', 'pgq_node.set_node_attrs(text, text)',
    'pgq_node.get_worker_state(text)', 'pgq_node.set_global_watermark(text, bigint)',
    'pgq_node.set_partition_watermark(text, text, bigint)',
    'pgq_node.register_location(text, text, text, boolean)',
    'pgq_node.unregister_location(text, text)', 'pgq_node.upgrade_schema()',
    'pgq_node.maint_watermark(text)'];
  tables text := 'pgq_node.node_location, pgq_node.node_info, pgq_node.local_state, '
                 'pgq_node.subscriber_info';
  fn text;
  internal regprocedure;
begin
  foreach fn in array public_functions loop
    execute format('grant execute on function %s to public', fn::regprocedure);
  end loop;
  -- The internal helpers only read positions; maint_watermark (not a definer function, as
  -- upstream) runs them with its caller's rights.
  for internal in
    select p.oid::regprocedure from pg_catalog.pg_proc p
     where p.pronamespace = 'pgq_node'::regnamespace and p.proname like '\_%'
  loop
    execute format('grant execute on function %s to public', internal);
  end loop;

  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_reader') then
    foreach fn in array remote_functions loop
      execute format('grant execute on function %s to pgq_reader', fn::regprocedure);
    end loop;
    execute format('grant select on %s to pgq_reader', tables);
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_writer') then
    foreach fn in array remote_functions || consumer_functions loop
      execute format('grant execute on function %s to pgq_writer', fn::regprocedure);
    end loop;
    execute format('grant select on %s to pgq_writer', tables);
  end if;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'pgq_admin') then
    foreach fn in array remote_functions || consumer_functions || admin_functions loop
      execute format('grant execute on function %s to pgq_admin', fn::regprocedure);
    end loop;
    execute format('grant select, insert, update, delete on %s to pgq_admin', tables);
  end if;
end
$grants$;
