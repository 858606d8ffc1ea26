import { SkytoolsError } from '../errors.js';
import type { ConnectionSource } from './consumer-connection.js';
import type { Logger } from './logger.js';

export interface ConsumerOptions {
  /** The consumer's own session: connection string (key=value or URL) or pg settings. */
  connection: ConnectionSource;
  queue: string;
  /** Consumer name, as registered with pgq.register_consumer. */
  consumer: string;
  /**
   * Finish each batch in the same transaction as the handler's work on `batch.client` /
   * `ctx.client`: exactly-once for work in the queue's database. Default false.
   */
  transactional?: boolean;
  /** Events read per round trip at most; a larger batch is streamed in blocks. Default 10000. */
  batchMaxEvents?: number;
  /** About how many bytes of events to hold per block. Default 16 MiB. */
  batchMaxBytes?: number;
  /** Seconds between polls when idle (the fallback when no NOTIFY arrives). Default 1. */
  loopDelay?: number;
  /** LISTEN pgq_tick to wake up when the ticker ends a non-empty batch. Default true. */
  listen?: boolean;
  /** Behind a transaction pooler: no advisory lock, no LISTEN (said once at start). */
  poolerMode?: boolean;
  /** Seconds before an event whose handler threw comes back. Default 60. */
  retryDelay?: number;
  /** After this many retries a failing event goes to `deadLetterQueue`, or the run stops. */
  maxRetries?: number;
  /** Queue that receives events past `maxRetries` (same type, data and extras). */
  deadLetterQueue?: string;
  /** Seconds to wait before reconnecting after the connection was lost. Default 5. */
  reconnectDelay?: number;
  /**
   * Seconds after which the consumer's session is closed and a new one opened, between
   * batches (upstream's connection_lifetime; the scripts use 1200). Default: kept open.
   */
  connectionLifetime?: number;
  /** next_batch_custom: hold batches until they are this many seconds old. */
  minLag?: number;
  /** next_batch_custom: hold batches until they hold this many events ... */
  minCount?: number;
  /** ... or span this many seconds. */
  minInterval?: number;
  /** Deliver only events whose ev_extra1 is one of these (upstream's table_filter). */
  tableFilter?: readonly string[];
  logger?: Logger;
  /** Stops the async-iterator form (`for await (const batch of consumer)`). */
  signal?: AbortSignal;
  applicationName?: string;
}

export interface ResolvedOptions {
  connection: ConnectionSource;
  queue: string;
  consumer: string;
  transactional: boolean;
  batchMaxEvents: number;
  batchMaxBytes: number;
  loopDelayMs: number;
  listen: boolean;
  poolerMode: boolean;
  retryDelay: number;
  maxRetries: number | null;
  deadLetterQueue: string | null;
  reconnectDelayMs: number;
  connectionLifetimeMs: number | null;
  minLag: string | null;
  minCount: number | null;
  minInterval: string | null;
  tableFilter: readonly string[] | null;
  applicationName: string;
}

/** Defaults applied and every value checked, so a bad option fails at construction. */
export function resolveOptions(options: ConsumerOptions): ResolvedOptions {
  const context = { queue: options?.queue, consumer: options?.consumer };
  const fail = (message: string): never => {
    throw new SkytoolsError('BAD_OPTION', message, context);
  };
  if (options === null || typeof options !== 'object') fail('consumer options are required');
  if (typeof options.queue !== 'string') fail('option queue must be a string');
  if (typeof options.consumer !== 'string') fail('option consumer must be a string');
  if (options.connection === undefined || options.connection === null) {
    fail('option connection is required (a connection string or pg client settings)');
  }
  const number = (name: keyof ConsumerOptions, min: number, integer: boolean) => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      fail(`option ${name} must be a number >= ${min}, got ${String(value)}`);
    }
    if (integer && !Number.isInteger(value)) fail(`option ${name} must be an integer`);
    return value as number;
  };
  const seconds = (name: keyof ConsumerOptions) => {
    const value = number(name, 0, false);
    return value === undefined ? null : `${value} seconds`;
  };
  const loopDelay = number('loopDelay', 0.001, false) ?? 1;
  const lifetime = number('connectionLifetime', 0.001, false);
  const maxRetries = number('maxRetries', 0, true) ?? null;
  const deadLetterQueue = options.deadLetterQueue ?? null;
  if (deadLetterQueue !== null && typeof deadLetterQueue !== 'string') {
    fail('option deadLetterQueue must be a queue name');
  }
  if (deadLetterQueue !== null && maxRetries === null) {
    fail('option deadLetterQueue needs maxRetries');
  }
  const tableFilter = options.tableFilter ?? null;
  if (tableFilter !== null) {
    if (!Array.isArray(tableFilter) || tableFilter.some((t) => typeof t !== 'string')) {
      fail('option tableFilter must be a list of table names');
    }
    if (tableFilter.length === 0) fail('option tableFilter must not be empty');
  }
  return {
    connection: options.connection,
    queue: options.queue,
    consumer: options.consumer,
    transactional: options.transactional === true,
    batchMaxEvents: number('batchMaxEvents', 1, true) ?? 10_000,
    batchMaxBytes: number('batchMaxBytes', 1, true) ?? 16 * 1024 * 1024,
    loopDelayMs: loopDelay * 1000,
    listen: options.listen !== false && options.poolerMode !== true,
    poolerMode: options.poolerMode === true,
    retryDelay: number('retryDelay', 0, false) ?? 60,
    maxRetries,
    deadLetterQueue,
    reconnectDelayMs: (number('reconnectDelay', 0, false) ?? 5) * 1000,
    connectionLifetimeMs: lifetime === undefined ? null : lifetime * 1000,
    minLag: seconds('minLag'),
    minCount: number('minCount', 0, true) ?? null,
    minInterval: seconds('minInterval'),
    tableFilter,
    applicationName:
      options.applicationName ??
      (typeof options.connection === 'object' ? options.connection.application_name : undefined) ??
      `skytools consumer ${options.consumer}`,
  };
}
