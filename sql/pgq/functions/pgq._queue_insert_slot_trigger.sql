-- pgq._queue_insert_slot_trigger(): AFTER row trigger on pgq.queue (queue_insert_slot).
--
-- Keeps pgq._insert_slot_<queue_id>() equal to the queue's row, in the transaction that
-- changes it: the hot path of pgq.insert_event reads its table from that function only (see
-- pgq._generate_insert_functions). It fires for every way the row changes (rotation,
-- set_queue_config, pgq_node's demote and promote, a plain UPDATE), also under
-- session_replication_role = replica (the trigger is ENABLE ALWAYS). A deleted queue's
-- function returns NULL until the next generation drops it, so code that still names it keeps
-- working and takes the general path.
--
-- SECURITY DEFINER: whoever may change the queue row may change its slot function, which only
-- the schema owner can replace.
-- Tables written: none (replaces one function).
create or replace function pgq._queue_insert_slot_trigger()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    if tg_op = 'UPDATE'
       and old.queue_id = new.queue_id
       and old.queue_cur_table = new.queue_cur_table
       and old.queue_disable_insert = new.queue_disable_insert
       and old.queue_per_tx_limit is not distinct from new.queue_per_tx_limit then
      return null;
    end if;
    if tg_op = 'DELETE' or old.queue_id <> new.queue_id then
      perform pgq._write_insert_slot(old.queue_id, null, true, null);
    end if;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    perform pgq._write_insert_slot(new.queue_id, new.queue_cur_table, new.queue_disable_insert,
                                   new.queue_per_tx_limit);
  end if;
  return null;
end;
$$;
