-- pgq._open_unseen_transactions(i_snapshot txid_snapshot) → boolean
--
-- Whether a transaction of the current database that has a transaction id and is not visible
-- in i_snapshot (it was running then, or began later) is still open, other than the caller's.
-- pgq.ticker_pass asks it after a tick whose events may not all be committed yet. Transaction
-- ids are cluster-wide, so the running ones are looked up in pg_stat_activity (by database);
-- its 32-bit backend_xid is widened with the epoch of the current transaction id counter.
--
-- Parameters: i_snapshot - the snapshot of the tick in question.
-- Tables written: none.
create or replace function pgq._open_unseen_transactions(i_snapshot txid_snapshot)
returns boolean
language sql
stable
set search_path = pg_catalog, pg_temp
as $$
  with cur as (select txid_snapshot_xmax(txid_current_snapshot()) as xmax)
  select exists (
    select 1
      from pg_stat_activity a, cur,
           lateral (select ((cur.xmax >> 32) << 32) + a.backend_xid::text::bigint as x) w
     where a.datid = (select d.oid from pg_database d where d.datname = current_database())
       and a.pid <> pg_backend_pid()
       and a.backend_xid is not null
       and not txid_visible_in_snapshot(
             case when w.x >= cur.xmax then w.x - 4294967296 else w.x end, i_snapshot))
$$;
