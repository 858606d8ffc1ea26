/**
 * The statements of the cascaded consumer and worker: fixed text, `$n` parameters, one
 * round trip each. Tick times travel as text so a branch's tick keeps the provider's
 * microseconds (a JavaScript Date would round them to milliseconds).
 */

/** The next batch of a consumer on the provider, ticks and times as text. */
export const nextBatchSql =
  'select batch_id, cur_tick_id::text, prev_tick_id::text, cur_tick_time::text,' +
  ' prev_tick_time::text, cur_tick_event_seq::text, prev_tick_event_seq::text' +
  ' from pgq.next_batch_info($1, $2)';

/**
 * The same, but the batch ends at the newest tick that is at most $3 events (by event
 * sequence) past the consumer's last tick, so one batch takes every small tick waiting:
 * next_batch_custom's min_count taken as "all pending, capped", which ends at the newest tick
 * when it is no more than twice that away, else at the first tick with $3 events.
 */
export const nextMergedBatchSql =
  'select batch_id, cur_tick_id::text, prev_tick_id::text, cur_tick_time::text,' +
  ' prev_tick_time::text, cur_tick_event_seq::text, prev_tick_event_seq::text' +
  ' from pgq.next_batch_custom($1, $2, null, (' +
  'select least(n.tick_event_seq - l.tick_event_seq, $3)::int4' +
  ' from pgq.queue q join pgq.subscription s on s.sub_queue = q.queue_id' +
  ' join pgq.consumer c on c.co_id = s.sub_consumer' +
  ' join pgq.tick l on l.tick_queue = q.queue_id and l.tick_id = s.sub_last_tick' +
  ' cross join lateral (select t.tick_event_seq from pgq.tick t where t.tick_queue = q.queue_id' +
  ' order by t.tick_queue desc, t.tick_id desc limit 1) n' +
  ' where q.queue_name = $1 and c.co_name = $2), null)';

/** The SELECT of a batch's events, built by the provider (pgq.batch_event_sql). */
export const batchEventSqlSql = 'select pgq.batch_event_sql($1) as sql';

export const finishBatchSql = 'select pgq.finish_batch($1) as ok';

/** One tick of the provider's queue (to re-create a local tick lost in a crash). */
export const providerTickSql =
  'select t.tick_id::text, t.tick_time::text, t.tick_event_seq::text from pgq.tick t' +
  ' join pgq.queue q on q.queue_id = t.tick_queue where q.queue_name = $1 and t.tick_id = $2';

/** The branch's copy of a provider tick: same id, time and event position. */
export const externalTickSql = 'select pgq.ticker($1, $2::int8, $3::timestamptz, $4::int8) as tick';

/** What pgqd does after a tick that ends a non-empty batch: wake the queue's consumers. */
export const notifyTickSql = "select pg_catalog.pg_notify('pgq_tick', $1)";

export const currentEventTableSql = 'select pgq.current_event_table($1) as tbl';
export const replicaRoleSql = 'set local session_replication_role = replica';
export const currentRoleSql =
  "select current_setting('session_replication_role') as role, current_user as who";

export const setCompletedSql = 'select * from pgq_node.set_consumer_completed($1, $2, $3)';
export const setErrorSql = 'select * from pgq_node.set_consumer_error($1, $2, $3)';
export const setUptodateSql = 'select * from pgq_node.set_consumer_uptodate($1, $2, true)';
export const registerLocationSql = 'select * from pgq_node.register_location($1, $2, $3, $4)';
export const unregisterLocationSql = 'select * from pgq_node.unregister_location($1, $2)';
export const setGlobalWatermarkSql = 'select * from pgq_node.set_global_watermark($1, $2)';
export const setPartitionWatermarkSql =
  'select * from pgq_node.set_partition_watermark($1, $2, $3)';
export const setSubscriberWatermarkSql =
  'select * from pgq_node.set_subscriber_watermark($1, $2, $3)';
export const tickIdEventSql =
  "select pgq.insert_event($1, 'pgq.tick-id', $2, $3, null, null, null)";
