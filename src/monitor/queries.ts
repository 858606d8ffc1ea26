/**
 * The statements of one look at a database, sent as one multi-statement round (one snapshot,
 * one round trip). They use the SQL API (`get_queue_info`, `get_consumer_info`,
 * `pgq_node.get_node_info`, `londiste.get_table_list`, ...) and the tables upstream grants to
 * everyone (`pgq.queue` for the event sequence, `pgq_node.node_info` for the list of cascaded
 * queues), so they read our schemas and upstream's alike. What a database has installed is
 * read in the same round (`presence`); a statement is sent only for what was there.
 */

/** Which parts a database has, and may be read by the monitoring role. */
export interface Presence {
  readonly pgq: boolean;
  readonly retryQueue: boolean;
  readonly pgqNode: boolean;
  readonly londiste: boolean;
  /** pg_stat_progress_copy (PostgreSQL 14 and later). */
  readonly progressCopy: boolean;
}

export const presenceSql = `select extract(epoch from now())::float8 as now,
  to_regprocedure('pgq.get_queue_info()') is not null as pgq,
  case when to_regclass('pgq.retry_queue') is null then false
       else has_table_privilege('pgq.retry_queue', 'select') end as retry_queue,
  case when to_regclass('pgq_node.node_info') is null then false
       else has_table_privilege('pgq_node.node_info', 'select') end as pgq_node,
  to_regprocedure('londiste.get_table_list(text)') is not null as londiste,
  to_regclass('pg_catalog.pg_stat_progress_copy') is not null as progress_copy`;

const queuesSql = `select q.queue_name, q.ev_per_sec, q.ev_new, q.last_tick_id,
  q.queue_ticker_paused, q.queue_external_ticker,
  extract(epoch from q.ticker_lag)::float8 as tick_age,
  extract(epoch from q.queue_rotation_period)::float8 as rotation_period,
  extract(epoch from q.queue_switch_time)::float8 as switch_time,
  (select pgq.seq_getval(t.queue_event_seq) from pgq.queue t
    where t.queue_name = q.queue_name) as events_total
 from pgq.get_queue_info() q`;

const consumersSql = `select c.queue_name, c.consumer_name,
  extract(epoch from c.lag)::float8 as lag, extract(epoch from c.last_seen)::float8 as last_seen,
  c.last_tick, c.current_batch, c.pending_events
 from pgq.get_consumer_info() c`;

// Cooperative subconsumers share their main consumer's sub_id: the main one has the
// shortest name ("main" sorts before "main.sub").
const retrySql = `select q.queue_name, r.events,
  (select min(c.co_name) from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
    where s.sub_id = r.ev_owner and s.sub_queue = r.ev_queue) as consumer_name
 from (select ev_queue, ev_owner, count(*)::int8 as events from pgq.retry_queue group by 1, 2) r
 join pgq.queue q on q.queue_id = r.ev_queue`;

const nodesSql = `select n.queue_name, i.node_type, i.node_name, i.provider_node, i.worker_name,
  i.worker_paused, i.worker_uptodate, i.worker_last_tick,
  array(select s.node_name from pgq_node.get_subscriber_info(n.queue_name) s) as subscribers
 from pgq_node.node_info n cross join lateral pgq_node.get_node_info(n.queue_name) i
 where i.ret_code between 100 and 299`;

const cascadeConsumersSql = `select n.queue_name, c.consumer_name, c.provider_node, c.paused,
  c.uptodate, c.cur_error
 from pgq_node.node_info n cross join lateral pgq_node.get_consumer_info(n.queue_name) c`;

function tablesSql(progressCopy: boolean): string {
  const progress = progressCopy
    ? `left join pg_catalog.pg_stat_progress_copy p
    on p.datid = (select oid from pg_catalog.pg_database where datname = current_database())
   and p.command = 'COPY FROM'
   and p.relid = to_regclass(pgq.quote_fqname(coalesce(t.dest_table, t.table_name)))`
    : '';
  const columns = progressCopy
    ? 'p.tuples_processed as copy_rows, p.bytes_processed as copy_bytes'
    : 'null::int8 as copy_rows, null::int8 as copy_bytes';
  return `select n.queue_name, t.table_name, t.local, t.merge_state, ${columns}
 from pgq_node.node_info n cross join lateral londiste.get_table_list(n.queue_name) t
 ${progress}`;
}

export type Part = 'queues' | 'consumers' | 'retry' | 'nodes' | 'cascadeConsumers' | 'tables';

/** The data statements for what `presence` found, in the order their results come back. */
export function dataStatements(presence: Presence): { part: Part; sql: string }[] {
  const parts: { part: Part; sql: string }[] = [];
  if (presence.pgq) {
    parts.push({ part: 'queues', sql: queuesSql }, { part: 'consumers', sql: consumersSql });
    if (presence.retryQueue) parts.push({ part: 'retry', sql: retrySql });
  }
  if (presence.pgqNode) {
    parts.push({ part: 'nodes', sql: nodesSql });
    parts.push({ part: 'cascadeConsumers', sql: cascadeConsumersSql });
    if (presence.londiste) parts.push({ part: 'tables', sql: tablesSql(presence.progressCopy) });
  }
  return parts;
}

export function samePresence(a: Presence, b: Presence): boolean {
  return (
    a.pgq === b.pgq &&
    a.retryQueue === b.retryQueue &&
    a.pgqNode === b.pgqNode &&
    a.londiste === b.londiste &&
    a.progressCopy === b.progressCopy
  );
}
