/**
 * The keys every consumer job reads from its INI section (upstream BaseScript and
 * BaseConsumer), checked at load so a bad file fails at start, or is refused on reload,
 * with file, section and key named.
 */
import {
  baseConsumerKeys,
  baseScriptKeys,
  type Config,
  dbScriptKeys,
  jobProcessKeys,
} from '../config/index.js';
import type { ConsumerOptions, RetryPolicy } from '../pgq/index.js';
import type { ListenAddress } from '../script/http-listen.js';
import { loadKeepaliveStats } from '../script/idle-stats.js';
import { loadMetricsListen } from '../script/metrics-key.js';

export interface JobSettings {
  readonly file: string;
  readonly section: string;
  readonly jobName: string;
  readonly pidfile: string | undefined;
  readonly logfile: string | undefined;
  /** `metrics_port` (ours): where the job's counters are served. */
  readonly metricsListen: ListenAddress | undefined;
  /** Seconds between polls for a batch when no tick notification comes. */
  readonly loopDelay: number;
  /** Seconds to wait after a crash before trying the batch again. */
  readonly exceptionSleep: number;
  /** Error codes or class names (or `ALL`) logged as a warning during the grace period. */
  readonly exceptionQuiet: readonly string[];
  /** Seconds after the first failure during which quiet errors are one-line warnings. */
  readonly exceptionGrace: number;
  /** Seconds without a failure after which the first failure is forgotten. */
  readonly exceptionReset: number;
  /** Seconds after which the job's connections are closed and reopened, between batches. */
  readonly connectionLifetime: number;
  /** Seconds between `{idle: S}` stats lines while no batch comes; 0 = none. */
  readonly keepaliveStats: number;
  /**
   * Per-event retry (retry_delay or max_retries set): a failing event goes to the retry
   * queue and the batch goes on. Null: a failure crashes the batch, as upstream.
   */
  readonly retry: RetryPolicy | null;
  readonly queue: string;
  readonly consumer: string;
  /** The queue's database: libpq key=value string or URL; "" = the libpq environment. */
  readonly srcDb: string;
  /** Options for the library Consumer, besides connection, queue and consumer. */
  readonly consumerOptions: Partial<ConsumerOptions>;
}

/**
 * Keys of the common part: upstream's BaseScript, DBScript and BaseConsumer keys (all of them,
 * read or not, so upstream's files raise no warning), the database keys, and ours. A tool adds
 * its own before unknown ones are reported.
 */
export const jobKeys = [
  ...baseScriptKeys,
  ...dbScriptKeys,
  ...baseConsumerKeys,
  ...jobProcessKeys,
  'db',
  'src_db',
  // ours: per-event retry
  'retry_delay',
  'max_retries',
  'dead_letter_queue',
];

/** The first of `keys` the section has (upstream names with their compat aliases). */
export function firstKey(cf: Config, keys: string[]): string | undefined {
  return keys.find((key) => cf.has(key));
}

export function loadJobSettings(cf: Config): JobSettings {
  const queueKey = firstKey(cf, ['queue_name', 'pgq_queue_name']);
  if (queueKey === undefined) throw cf.error('queue_name', 'missing required key "queue_name"');
  const queue = cf.get(queueKey).trim();
  if (queue === '') throw cf.error(queueKey, `${queueKey} is empty`);
  const jobName = cf.get('job_name');
  const consumerKey = firstKey(cf, ['consumer_name', 'pgq_consumer_id']);
  const consumer = consumerKey === undefined ? jobName : cf.get(consumerKey).trim();
  if (consumer === '') throw cf.error(consumerKey ?? 'job_name', 'the consumer name is empty');
  const loopDelay = cf.getSeconds('loop_delay', 1);
  if (loopDelay <= 0) {
    throw cf.error(
      'loop_delay',
      `loop_delay must be above 0 for a consumer (it is the polling period), not ${loopDelay}`,
    );
  }
  const dbKey = firstKey(cf, ['src_db', 'db']);
  const consumerOptions: Partial<ConsumerOptions> = { loopDelay };
  const tableFilter = cf.getList('table_filter', []);
  if (tableFilter.length > 0) consumerOptions.tableFilter = tableFilter;
  const lazyFetch = cf.getInt('pgq_lazy_fetch', 0);
  if (lazyFetch < 0) throw cf.error('pgq_lazy_fetch', 'pgq_lazy_fetch must not be negative');
  if (lazyFetch > 0) consumerOptions.batchMaxEvents = lazyFetch;
  if (cf.has('pgq_batch_collect_events')) {
    consumerOptions.minCount = nonNegative(cf, 'pgq_batch_collect_events');
  }
  if (cf.has('pgq_batch_collect_interval')) {
    consumerOptions.minInterval = cf.getSeconds('pgq_batch_collect_interval');
  }
  if (cf.has('pgq_keep_lag')) consumerOptions.minLag = cf.getSeconds('pgq_keep_lag');
  const connectionLifetime = cf.getSeconds('connection_lifetime', 1200);
  if (connectionLifetime <= 0) {
    throw cf.error('connection_lifetime', 'connection_lifetime must be above 0 seconds');
  }
  consumerOptions.connectionLifetime = connectionLifetime;
  const keepaliveStats = loadKeepaliveStats(cf);
  const retry = loadRetryPolicy(cf, queue);
  if (retry !== null) {
    consumerOptions.retryDelay = retry.retryDelay;
    if (retry.maxRetries !== null) consumerOptions.maxRetries = retry.maxRetries;
    if (retry.deadLetterQueue !== null) consumerOptions.deadLetterQueue = retry.deadLetterQueue;
  }
  return {
    file: cf.file,
    section: cf.section,
    jobName,
    pidfile: cf.getFile('pidfile', '') || undefined,
    logfile: cf.getFile('logfile', '') || undefined,
    metricsListen: loadMetricsListen(cf),
    loopDelay,
    exceptionSleep: cf.getSeconds('exception_sleep', 20),
    exceptionQuiet: cf.getList('exception_quiet', []),
    exceptionGrace: cf.getSeconds('exception_grace', 300),
    exceptionReset: cf.getSeconds('exception_reset', 900),
    connectionLifetime,
    keepaliveStats,
    retry,
    queue,
    consumer,
    srcDb: dbKey === undefined ? '' : cf.get(dbKey),
    consumerOptions,
  };
}

function nonNegative(cf: Config, key: string): number {
  const value = cf.getInt(key);
  if (value < 0) throw cf.error(key, `${key} must not be negative, not ${value}`);
  return value;
}

/** retry_delay, max_retries and dead_letter_queue (decisions: unlimited retries by default). */
function loadRetryPolicy(cf: Config, queue: string): RetryPolicy | null {
  const maxRetries = cf.has('max_retries') ? nonNegative(cf, 'max_retries') : null;
  const deadLetterQueue = cf.has('dead_letter_queue') ? cf.get('dead_letter_queue').trim() : null;
  if (deadLetterQueue !== null) {
    if (deadLetterQueue === '') throw cf.error('dead_letter_queue', 'dead_letter_queue is empty');
    if (maxRetries === null) {
      throw cf.error(
        'dead_letter_queue',
        'dead_letter_queue needs max_retries (events go there after that many retries)',
      );
    }
    if (deadLetterQueue === queue) {
      throw cf.error(
        'dead_letter_queue',
        `dead_letter_queue must not be the consumer's own queue ("${queue}")`,
      );
    }
  }
  if (maxRetries === null && !cf.has('retry_delay')) return null;
  const retryDelay = cf.getSeconds('retry_delay', 60);
  if (retryDelay > 2 ** 31 - 1) {
    throw cf.error('retry_delay', `retry_delay must be at most ${2 ** 31 - 1} seconds`);
  }
  return { retryDelay, maxRetries, deadLetterQueue };
}
