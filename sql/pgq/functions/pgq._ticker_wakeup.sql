-- pgq._ticker_wakeup(i_queue_name text) → void
--
-- The producer's side of pgqd's wake-up (ours): called by every insert path once it has taken
-- its event id (and by force_tick, create_queue and set_queue_config), but only when the flag pgq.ticker_wakeup is set (the callers test it inline,
-- which costs a fraction of a microsecond; this call is the rare path). While the flag holds an
-- epoch second not yet past, pgqd sleeps with LISTEN pgq_wakeup: send it the queue name. The
-- NOTIFY goes out when the producer's transaction commits, so the tick pgqd makes on it covers
-- the event; a rolled-back transaction sends nothing. PostgreSQL folds equal notifications of
-- one transaction into one, and pgqd clears the flag on waking, so a queue costs at most one
-- NOTIFY per pgqd wake-up (plus those of producers racing that moment), never one per event.
-- The expiry keeps a dead pgqd (kill -9) from leaving producers notifying for ever.
--
-- Parameters: i_queue_name - the queue the caller inserted into.
-- Tables written: none.
create or replace function pgq._ticker_wakeup(i_queue_name text)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
as $$
begin
  if pg_sequence_last_value('pgq.ticker_wakeup'::regclass)
     >= extract(epoch from now())::bigint then
    perform pg_notify('pgq_wakeup', i_queue_name);
  end if;
end;
$$;
