import type { ConnectionSource } from '../pgq/consumer-connection.js';
import type { Logger } from '../pgq/logger.js';
import type { BatchStatsHook } from './batch-stats.js';
import { CascadeError } from './node-calls.js';
import type { CascadeWorkerHooks } from './worker-hooks.js';

export interface CascadedWorkerOptions {
  /** The local node's database: connection string (key=value or URL) or pg settings. */
  connection: ConnectionSource;
  queue: string;
  /** remote_extra_connstr: appended to the provider locations the node has registered. */
  extraConnstr?: string;
  /** Seconds between polls when idle (a NOTIFY from the provider wakes it earlier). Default 1. */
  loopDelay?: number;
  /** Root: seconds between global watermark events. Default 300. */
  globalWmPublishPeriod?: number;
  /** Branch and leaf: seconds between local watermark reports to the provider. Default 300. */
  localWmPublishPeriod?: number;
  /**
   * Events read from the provider per block at most, where events are read as rows (leaf,
   * merge-leaf). A branch streams COPY text instead, bounded by bytes alone. Default 5000.
   */
  batchMaxEvents?: number;
  /**
   * A leaf (not a branch, merge leaf or copy helper) takes every tick waiting on the provider
   * into one batch, up to about this many events, instead of one tick per batch: a busy root
   * ticked many times a second then costs one local transaction per loop, not per tick.
   * Default 0: one tick per batch, as upstream.
   */
  leafMergeEvents?: number;
  /** About how many bytes of events are held at most (a block, or the copy streams). Default 8 MiB. */
  batchMaxBytes?: number;
  /** Seconds to wait after a failed loop before the next try. Default 5. */
  retryDelay?: number;
  logger?: Logger;
  applicationName?: string;
  /**
   * Called after each batch is committed locally and finished on the provider, with what it
   * read and copied and how long it took (the stats line of `setadm CONFIG worker`).
   */
  onBatch?: BatchStatsHook;
  /** What a tool built on the worker plugs in (worker-hooks.ts); none for setadm. */
  hooks?: CascadeWorkerHooks;
  /**
   * Run as a tool's helper beside the node's worker (a Londiste table copy), not as the
   * node's worker: its own consumer name and position in the node, registered on the
   * provider at its first loop (on `provider`, a location, when given; else on the node's
   * provider). It applies no cascade events, moves no watermark, makes no tick and changes
   * nothing of the node's state.
   */
  copyHelper?: { consumer: string; provider?: string };
}

/** Options of the cascaded worker and consumer, checked, with their defaults. */
export interface ResolvedCascadeOptions {
  connection: ConnectionSource;
  queue: string;
  extraConnstr: string;
  loopDelayMs: number;
  retryDelayMs: number;
  batchMaxEvents: number;
  batchMaxBytes: number;
  applicationName: string | undefined;
  onBatch: BatchStatsHook | undefined;
}

type Common = Pick<
  CascadedWorkerOptions,
  | 'connection'
  | 'queue'
  | 'extraConnstr'
  | 'loopDelay'
  | 'batchMaxEvents'
  | 'batchMaxBytes'
  | 'retryDelay'
  | 'applicationName'
  | 'onBatch'
>;

/** Checks common to both kinds: a bad option fails at construction, naming the option. */
export function resolveCommon(options: Common, context: Record<string, unknown>) {
  const fail = (message: string): never => {
    throw new CascadeError('BAD_OPTION', message, { queue: options?.queue, ...context });
  };
  if (options === null || typeof options !== 'object') fail('options are required');
  if (typeof options.queue !== 'string') fail('option queue must be a string');
  if (options.connection === undefined || options.connection === null) {
    fail('option connection is required (the local node: a connection string or pg settings)');
  }
  if (options.extraConnstr !== undefined && typeof options.extraConnstr !== 'string') {
    fail('option extraConnstr must be a string');
  }
  if (options.onBatch !== undefined && typeof options.onBatch !== 'function') {
    fail('option onBatch must be a function');
  }
  const number = (name: string, value: unknown, min: number, integer: boolean) => {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      fail(`option ${name} must be a number >= ${min}, got ${String(value)}`);
    }
    if (integer && !Number.isInteger(value)) fail(`option ${name} must be an integer`);
    return value as number;
  };
  const resolved: ResolvedCascadeOptions = {
    connection: options.connection,
    queue: options.queue,
    extraConnstr: options.extraConnstr ?? '',
    loopDelayMs: (number('loopDelay', options.loopDelay, 0.001, false) ?? 1) * 1000,
    retryDelayMs: (number('retryDelay', options.retryDelay, 0, false) ?? 5) * 1000,
    batchMaxEvents: number('batchMaxEvents', options.batchMaxEvents, 1, true) ?? 5000,
    batchMaxBytes: number('batchMaxBytes', options.batchMaxBytes, 1, true) ?? 8 * 1024 * 1024,
    applicationName: options.applicationName,
    onBatch: options.onBatch,
  };
  return { resolved, number, fail };
}
