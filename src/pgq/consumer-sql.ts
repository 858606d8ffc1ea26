import { eventColumns } from './event.js';

/**
 * The statements of the consumer's hot path: fixed text, `$n` parameters, one round trip each.
 */

export const nextBatchSql =
  'select batch_id, cur_tick_id, prev_tick_id, cur_tick_time, prev_tick_time,' +
  ' cur_tick_event_seq, prev_tick_event_seq' +
  ' from pgq.next_batch_custom($1, $2, $3::interval, $4, $5::interval)';

/** A cursor over a batch (and its first $3 rows); it stays open while the transaction lasts. */
export const batchCursorSql = 'select * from pgq.get_batch_cursor($1, $2, $3, $4)';

/** The first $2 events of a batch in one statement. */
export const batchEventsSql = `select ${eventColumns} from pgq.get_batch_events($1) limit $2`;
/** The same with a filter built by the library (see tableFilterSql). */
export const batchEventsFilteredSql = (filter: string) =>
  `select ${eventColumns} from pgq.get_batch_events($1) where ${filter} limit $2`;

const defaultFinish = 'pgq.finish_batch';
/** `fn` is a fixed function name of the library's (pgq_coop.finish_batch), never user input. */
export const finishSql = (fn = defaultFinish) => `select ${fn}($1) as ok`;

// The retries are written before the finish: event_retry needs the batch still open, and the
// aggregate subquery is complete before the outer select list runs.
export const retryAndFinishSql = (fn = defaultFinish) =>
  `select ${fn}($1) as ok from` +
  ' (select count(pgq.event_retry($1, r.id, r.delay)) as n' +
  ' from unnest($2::int8[], $3::int4[]) as r(id, delay)) as retried';

export const deadLetterSql =
  'select count(pgq.insert_event($1, d.type, d.data, d.e1, d.e2, d.e3, d.e4)) as n' +
  ' from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])' +
  ' as d(type, data, e1, e2, e3, e4)';

/** Cursor name used by get_batch_cursor; one batch at a time per connection. */
export const cursorName = 'skytools_batch';
export const fetchSql = (count: number) => `fetch forward ${count} from ${cursorName}`;
export const moveSql = (count: number) => `move forward ${count} in ${cursorName}`;

/** Two-key advisory lock per (queue, consumer); the prefix keeps it apart from other users. */
export const tryLockSql =
  "select pg_try_advisory_lock(hashtext('pgq.consumer ' || $1), hashtext($2)) as locked," +
  ' pg_backend_pid() as pid';
export const unlockSql =
  "select pg_advisory_unlock(hashtext('pgq.consumer ' || $1), hashtext($2)) as unlocked";

export const subscriptionSql =
  'select q.queue_id, (select true from pgq.subscription s join pgq.consumer c' +
  ' on c.co_id = s.sub_consumer where s.sub_queue = q.queue_id and c.co_name = $2' +
  ' limit 1) as registered from pgq.queue q where q.queue_name = $1';
