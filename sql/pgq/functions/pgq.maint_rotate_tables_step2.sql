-- pgq.maint_rotate_tables_step2(): second half of event table rotations. Must run in its own
-- transaction, after the one that ran pgq.maint_rotate_tables_step1() committed.
--
-- Parameters: none.
-- Result: 0, always.
--   Records this transaction's txid as queue_switch_step2 of every queue whose rotation is in
--   progress: transactions after it can no longer write into the previous table.
-- Writes: pgq.queue.
create or replace function pgq.maint_rotate_tables_step2()
returns integer
language plpgsql
as $$
begin
  -- Wait for table switches still committing (see step 1): a producer that has not seen one
  -- took its txid before that switch ended, so before ours.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('pgq.rotate_tables'));
  update pgq.queue
     set queue_switch_step2 = pg_catalog.txid_current()
   where queue_switch_step2 is null;
  return 0;
end;
$$;
