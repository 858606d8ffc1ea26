/**
 * A running consumer job: the library Consumer driven by upstream BaseConsumer's rules. One
 * stats line per batch (`{count: N, duration: S}`), and `{idle: S}` every keepalive_stats
 * seconds while none comes; a crash leaves the batch unfinished (it is
 * delivered again), drops the connections and tries again after `exception_sleep`; a graceful
 * stop finishes the batch in hand, an immediate one leaves it; a reload takes effect at the next
 * batch boundary. Errors no retry can fix (no such queue, consumer not registered or dropped,
 * no pgq schema, access denied, another process running it) end the job instead of looping;
 * the others are logged with their reason and retried.
 */
import type { Logger } from 'pino';
import { failureOf } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';
import { type Batch, Consumer, type ConsumerOptions } from '../pgq/index.js';
import {
  formatStats,
  IdleStatsLine,
  liveLoopOptions,
  ScriptLoop,
  StatsCounter,
} from '../script/index.js';
import type { JobMetrics } from '../script/job-metrics.js';
import type { JobSettings } from './job-settings.js';

export interface BatchContext {
  readonly log: Logger;
  /** Aborts on an immediate stop: return false at the next event. */
  readonly stopNow: AbortSignal;
  /** Counters for this batch's stats line (`count` and `duration` are added by the job). */
  readonly stats: StatsCounter;
}

/** What a tool does with batches; one instance lives until a crash or a reload. */
export interface BatchProcessor {
  /** Before consuming starts, at start and again after every crash or reload. */
  prepare?(): Promise<void>;
  /**
   * Handle every event of the batch. True: the batch may be finished. False: stopped early,
   * the batch is left unfinished. A throw is a crash: the batch is delivered again later.
   */
  process(batch: Batch, context: BatchContext): Promise<boolean>;
  /** After each finished batch: close connections older than connection_lifetime. */
  afterBatch?(): Promise<void>;
  /** Drop connections; called after a crash, on reload and at the end. */
  close(): Promise<void>;
}

export type ProcessorFactory<S extends JobSettings> = (settings: S, log: Logger) => BatchProcessor;

/** Where the batches come from: a library consumer (Consumer, LocalConsumer). */
export interface BatchSource {
  batches(options: { signal?: AbortSignal }): AsyncGenerator<Batch, void, undefined>;
}

export type SourceFactory<S extends JobSettings> = (
  options: ConsumerOptions,
  settings: S,
) => BatchSource;

const plainConsumer = (options: ConsumerOptions): BatchSource => new Consumer(options);

/**
 * Our typed errors that no retry can fix (no such queue or database, consumer not registered
 * or dropped, another process running it, no access, bad config): the job stops and the
 * command fails. A tool's own errors of other kinds crash the batch and are retried.
 */
function isFatal(error: unknown): boolean {
  return error instanceof SkytoolsError && !failureOf(error).transient;
}

export class ConsumerJob<S extends JobSettings> {
  #settings: S;
  #pending: S | null = null;
  #processor: BatchProcessor | null = null;
  #fatal: unknown = null;
  readonly #stop = new AbortController();
  readonly #now = new AbortController();
  #batchBoundary = new AbortController();
  #loop: ScriptLoop | null = null;
  #idle: IdleStatsLine | null = null;

  constructor(
    settings: S,
    private readonly factory: ProcessorFactory<S>,
    private readonly logger: Logger,
    private readonly applicationName: string,
    private readonly source: SourceFactory<S> = plainConsumer,
    /** Where each batch's stats line is also counted (`metrics_port`). */
    private readonly metrics?: JobMetrics,
  ) {
    this.#settings = settings;
  }

  get settings(): S {
    return this.#settings;
  }

  /** True once an immediate stop was asked for. */
  get stoppedNow(): boolean {
    return this.#now.signal.aborted;
  }

  /** Graceful: the batch in hand is finished first. Immediate: it is left unfinished. */
  stop(immediate: boolean): void {
    if (immediate) this.#now.abort();
    this.#stop.abort();
  }

  /** Use these settings from the next batch on. */
  reload(settings: S): void {
    this.#pending = settings;
    this.#batchBoundary.abort();
  }

  /** Run until stopped; rejects with the error that ended the job for good. */
  async run(): Promise<void> {
    this.#loop = new ScriptLoop(
      liveLoopOptions(() => this.#settings, {
        logger: this.logger,
        loopDelay: 1,
        signal: this.#stop.signal,
        reset: () => this.#closeProcessor(),
      }),
    );
    try {
      await this.#loop.run(() => this.#work());
    } finally {
      this.#idle?.stop();
      await this.#closeProcessor();
    }
    if (this.#fatal !== null) throw this.#fatal;
  }

  async #work(): Promise<boolean> {
    let idleSince: number | undefined;
    if (this.#pending !== null) {
      await this.#closeProcessor();
      this.#settings = this.#pending;
      this.#pending = null;
      // Its period and log bindings may have changed; the time of the last batch has not.
      idleSince = this.#idle?.lastBatch;
      this.#idle?.stop();
      this.#idle = null;
    }
    const settings = this.#settings;
    this.#batchBoundary = new AbortController();
    const log = this.logger.child({ queue: settings.queue, consumer: settings.consumer });
    if (this.#idle === null) {
      this.#idle = new IdleStatsLine(log, settings.keepaliveStats);
      this.#idle.start(idleSince);
    }
    const idle = this.#idle;
    this.#processor ??= this.factory(settings, log);
    const processor = this.#processor;
    const consumer = this.source(
      {
        ...settings.consumerOptions,
        connection: settings.srcDb,
        queue: settings.queue,
        consumer: settings.consumer,
        logger: this.logger,
        applicationName: `${this.applicationName} ${settings.jobName}`,
      },
      settings,
    );
    const signal = AbortSignal.any([this.#stop.signal, this.#batchBoundary.signal]);
    try {
      await processor.prepare?.();
      for await (const batch of consumer.batches({ signal })) {
        idle.busy();
        try {
          const started = performance.now();
          const stats = new StatsCounter();
          stats.put('count', 0);
          const complete = await processor.process(batch, {
            log,
            stopNow: this.#now.signal,
            stats,
          });
          if (!complete || this.#now.signal.aborted) return false;
          await batch.finish();
          stats.put('count', batch.eventCount);
          stats.put('duration', (performance.now() - started) / 1000);
          const line = stats.take() as Record<string, number>;
          log.info(formatStats(line));
          this.metrics?.batch({ queue: settings.queue, consumer: settings.consumer }, line);
        } finally {
          idle.done();
        }
        // The work call lasts as long as the consumer runs: each batch counts as a success.
        this.#loop?.succeeded();
        await processor.afterBatch?.();
      }
    } catch (error) {
      if (isFatal(error)) {
        this.#fatal = error;
        this.#stop.abort();
        return false;
      }
      throw error;
    }
    // Leaving the loop without a stop means a reload: start again at once with the new settings.
    return !this.#stop.signal.aborted;
  }

  async #closeProcessor(): Promise<void> {
    const processor = this.#processor;
    this.#processor = null;
    await processor?.close().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'closing connections failed');
    });
  }
}
