/**
 * The statements of resurrect that read or delete the old root's own history after the
 * gravestone tick. Events "after the gravestone" are the ones its tick's snapshot does not
 * show, which is how pgq itself decides what a batch contains; each is dumped with the first
 * later tick that shows it (null if no tick was made after it was committed).
 */
import { quoteQualified } from '../../db/quote.js';

/** The queue's parent event table (its rotating tables inherit from it). */
export const queueTableSql = 'select queue_id, queue_data_pfx from pgq.queue where queue_name = $1';

/** `pgq.event_7` → quoted `schema.table` (the prefix is always schema-qualified). */
export function eventTable(dataPfx: string): string {
  const dot = dataPfx.indexOf('.');
  return dot < 0
    ? quoteQualified(null, dataPfx)
    : quoteQualified(dataPfx.slice(0, dot), dataPfx.slice(dot + 1));
}

/** $1 queue id, $2 gravestone tick. */
export const lostEventsSql = (table: string) =>
  'select (select min(t.tick_id) from pgq.tick t' +
  ' where t.tick_queue = g.tick_queue and t.tick_id > g.tick_id' +
  ' and txid_visible_in_snapshot(ev.ev_txid, t.tick_snapshot))::text as tick_id,' +
  ' ev.ev_id::text as ev_id, ev.ev_time, ev.ev_txid::text as ev_txid, ev.ev_owner,' +
  ' ev.ev_retry, ev.ev_type, ev.ev_data, ev.ev_extra1, ev.ev_extra2, ev.ev_extra3,' +
  ' ev.ev_extra4' +
  ` from ${table} ev, pgq.tick g` +
  ' where g.tick_queue = $1 and g.tick_id = $2' +
  ' and not txid_visible_in_snapshot(ev.ev_txid, g.tick_snapshot)' +
  ' order by ev.ev_id';

/** How many there are (the dry run's figure). */
export const countLostEventsSql = (table: string) =>
  `select count(*)::text as n from ${table} ev, pgq.tick g` +
  ' where g.tick_queue = $1 and g.tick_id = $2' +
  ' and not txid_visible_in_snapshot(ev.ev_txid, g.tick_snapshot)';

/** The same events, deleted (in the dump's snapshot, so exactly those). */
export const deleteLostEventsSql = (table: string) =>
  `delete from ${table} ev using pgq.tick g` +
  ' where g.tick_queue = $1 and g.tick_id = $2' +
  ' and not txid_visible_in_snapshot(ev.ev_txid, g.tick_snapshot)';

export const deleteLostTicksSql = 'delete from pgq.tick where tick_queue = $1 and tick_id > $2';

/** Does the gravestone tick still exist here? */
export const tickExistsSql = 'select 1 from pgq.tick where tick_queue = $1 and tick_id = $2';

/** pgq consumers of the queue, with their positions (int8 as text). */
export const consumersSql =
  'select consumer_name, last_tick::text as last_tick from pgq.get_consumer_info($1)';

/** One consumer's position, for the gravestone; no row when it is not registered. */
export const consumerPositionSql =
  'select last_tick::text as last_tick from pgq.get_consumer_info($1, $2)';
