-- pgq.batch_event_sql(x_batch_id): the SELECT that returns a batch's events.
--
-- Parameters: x_batch_id: an open batch.
-- Result: SQL text selecting ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data,
--   ev_extra1..4 from the batch's data tables (pgq._batch_tables chooses them),
--   ending in 'order by 1'.
--   An event belongs to the batch when its txid is not visible in the start tick's snapshot and
--   is visible in the end tick's: an index range scan on ev_txid from the start xmax to the end
--   xmax with both visibility checks, plus an exact IN list for the txids that were running at
--   the start tick and finished by the end tick. Such txids within 100 below the start xmax are
--   folded into the range instead. Txids from the start xmax up to the end xmin are in the
--   batch without a check (each is visible in the end snapshot and not in the start one), so a
--   batch without long transactions runs no visibility function at all.
--   Retry events go only to their owner: ev_owner is NULL or the batch's subscription.
-- Errors: 'batch not found'.
-- Writes: nothing.
--
-- Everything comes from one read of the subscription, queue and both ticks: get_batch_events
-- calls this for every batch, and its cost is part of every read.
create or replace function pgq.batch_event_sql(x_batch_id bigint)
returns text
language plpgsql
as $$
declare
  v_sub_id integer;
  v_prev pg_catalog.txid_snapshot;
  v_cur pg_catalog.txid_snapshot;
  v_pfx text;
  v_cur_table integer;
  v_ntables integer;
  v_step1 bigint;
  v_step2 bigint;
  v_prev_xmax bigint;
  v_cur_xmin bigint;
  v_cur_xmax bigint;
  v_lo bigint;
  v_list text;
  v_cond text;
  v_tables text[];
  v_sql text;
begin
  select s.sub_id, pt.tick_snapshot, ct.tick_snapshot, q.queue_data_pfx, q.queue_cur_table,
         q.queue_ntables, q.queue_switch_step1, q.queue_switch_step2
    into v_sub_id, v_prev, v_cur, v_pfx, v_cur_table, v_ntables, v_step1, v_step2
    from pgq.subscription s
    join pgq.queue q on q.queue_id = s.sub_queue
    join pgq.tick pt on pt.tick_queue = s.sub_queue and pt.tick_id = s.sub_last_tick
    join pgq.tick ct on ct.tick_queue = s.sub_queue and ct.tick_id = s.sub_next_tick
   where s.sub_batch = x_batch_id;
  if not found then
    raise exception 'batch not found'
      using detail = format('batch id: %s', coalesce(x_batch_id::text, '<NULL>')),
            hint = 'the batch is finished, or was never opened by pgq.next_batch()';
  end if;

  v_prev_xmax := pg_catalog.txid_snapshot_xmax(v_prev);
  v_cur_xmin := pg_catalog.txid_snapshot_xmin(v_cur);
  v_cur_xmax := pg_catalog.txid_snapshot_xmax(v_cur);

  -- Transactions running at the start tick and finished by the end tick: those close below
  -- the start xmax widen the range, the rest go into the IN list. No running transactions at
  -- the start tick (xmin = xmax) is the common case: nothing to look at.
  v_lo := v_prev_xmax;
  if pg_catalog.txid_snapshot_xmin(v_prev) < v_prev_xmax then
    select least(v_prev_xmax, min(x.txid) filter (where x.txid >= v_prev_xmax - 100)),
           string_agg(x.txid::text, ',' order by x.txid) filter (where x.txid < v_prev_xmax - 100)
      into v_lo, v_list
      from (select pg_catalog.txid_snapshot_xip(v_prev) as txid
            except
            select pg_catalog.txid_snapshot_xip(v_cur)) x;
    v_lo := coalesce(v_lo, v_prev_xmax);
  end if;

  v_cond := format(
    '(ev.ev_txid >= %s and ev.ev_txid < %s and (%s'
    'pg_catalog.txid_visible_in_snapshot(ev.ev_txid, %L::pg_catalog.txid_snapshot)'
    ' and not pg_catalog.txid_visible_in_snapshot(ev.ev_txid, %L::pg_catalog.txid_snapshot)))',
    v_lo, v_cur_xmax,
    case when v_prev_xmax < v_cur_xmin
         then format('ev.ev_txid >= %s and ev.ev_txid < %s or ', v_prev_xmax, v_cur_xmin)
         else '' end,
    v_cur::text, v_prev::text);
  if v_list is not null then
    v_cond := v_cond || ' or ev.ev_txid in (' || v_list || ')';
  end if;

  v_tables := pgq._batch_tables(v_pfx, v_cur_table, v_ntables, v_step1, v_step2,
                                pg_catalog.txid_snapshot_xmin(v_prev), v_cur_xmax);
  select string_agg(
           'select ev.ev_id, ev.ev_time, ev.ev_txid, ev.ev_retry, ev.ev_type, ev.ev_data,'
           ' ev.ev_extra1, ev.ev_extra2, ev.ev_extra3, ev.ev_extra4'
           ' from ' || pgq.quote_fqname(t) || ' ev'
           ' where (ev.ev_owner is null or ev.ev_owner = ' || v_sub_id::text || ')'
           ' and (' || v_cond || ')',
           E'\nunion all\n' order by n)
    into v_sql
    from unnest(v_tables) with ordinality u(t, n);
  return v_sql || E'\norder by 1';
end;
$$;
