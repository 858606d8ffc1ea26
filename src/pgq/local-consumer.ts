import { SkytoolsError } from '../errors.js';
import type { Batch } from './batch.js';
import { Consumer, registerConsumer, unregisterConsumer } from './consumer.js';
import { isSessionLost } from './consumer-connection.js';
import type { ConsumerOptions, ResolvedOptions } from './consumer-options.js';
import { tryLockSql, unlockSql } from './consumer-sql.js';
import type { Event } from './event.js';
import { moveConsumer, type PositionSync, queueTick, syncPosition } from './local-position.js';
import type { Logger } from './logger.js';
import { withSourceClient } from './source-client.js';
import { TrackingFile } from './tracking-file.js';
import { sleep } from './wakeup.js';

export interface LocalConsumerOptions extends ConsumerOptions {
  /** The position file (upstream's local_tracking_file). Its directory must exist. */
  trackingFile: string;
  /**
   * Called after the file holds the batch's tick and before the batch is finished on the
   * queue (for metrics; a crash here is the case the file covers: the batch is not redone).
   */
  onPositionSaved?: (batch: Batch) => unknown;
}

export interface LocalHandlerContext {
  batch: Batch;
  /** Aborts on `stopNow`. */
  signal: AbortSignal | undefined;
}

/** Called once per event, in order; a throw leaves the batch unfinished and stops the run. */
export type LocalEventHandler = (event: Event, context: LocalHandlerContext) => unknown;

export interface LocalRunOptions {
  /** Graceful stop: the batch in hand is done, saved and finished, then `run` resolves. */
  signal?: AbortSignal;
  /** Immediate stop: the batch in hand is left unfinished and the file untouched. */
  stopNow?: AbortSignal;
}

/**
 * Upstream's LocalConsumer: the position of the work is kept in a local file. Each batch is
 * handled, then its tick is written to the file (atomically), then the batch is finished on
 * the queue. A batch ending at the file's tick was done before a crash and is only finished;
 * one not starting at it is a lost position. At every (re)connect the queue consumer is moved
 * to the file's tick, or the file is started from the queue. The work itself is at least once:
 * a crash after the work and before the file write does the batch again.
 */
export class LocalConsumer implements AsyncIterable<Batch> {
  readonly tracking: TrackingFile;
  readonly #consumer: Consumer;
  readonly #signal: AbortSignal | undefined;
  readonly #onSaved: ((batch: Batch) => unknown) | undefined;
  /** The batch being finished without work (the file already has it). */
  #skipping: number | null = null;
  /** Set once the queue was reached and synced: later session losses are retried. */
  #reached = false;

  constructor(options: LocalConsumerOptions) {
    const context = { queue: options?.queue, consumer: options?.consumer };
    const fail = (message: string): never => {
      throw new SkytoolsError('BAD_OPTION', message, context);
    };
    if (typeof options?.trackingFile !== 'string' || options.trackingFile.trim() === '') {
      fail('option trackingFile is required (the file that keeps the position)');
    }
    if (options.transactional === true) {
      fail(
        'option transactional does not apply to LocalConsumer: the file is written before the queue transaction commits; for work in the queue database use Consumer with transactional: true',
      );
    }
    for (const name of ['maxRetries', 'deadLetterQueue', 'retryDelay'] as const) {
      if (options[name] !== undefined) {
        fail(
          `option ${name} does not apply to LocalConsumer: it has no retry queue (a retry would be lost when the file already holds the batch)`,
        );
      }
    }
    this.tracking = new TrackingFile(options.trackingFile, context);
    this.#signal = options.signal;
    this.#onSaved = options.onPositionSaved;
    this.#consumer = new Consumer(
      {
        ...options,
        applicationName: options.applicationName ?? `skytools local consumer ${options.consumer}`,
      },
      {
        prepare: async (client) => {
          this.#report(await syncPosition(client, this.queue, this.consumer, this.tracking));
          this.#reached = true;
        },
        beforeFinish: (batch) => this.#save(batch),
      },
    );
  }

  get options(): ResolvedOptions {
    return this.#consumer.options;
  }
  get queue(): string {
    return this.#consumer.queue;
  }
  get consumer(): string {
    return this.#consumer.consumer;
  }
  get log(): Logger {
    return this.#consumer.log;
  }

  /** The file's tick, or null when there is no file. */
  fileTick(): number | null {
    return this.tracking.read();
  }

  /**
   * pgq.register_consumer; true when newly registered. A new subscription starts at the
   * queue's last tick, so a file left from an earlier one is removed.
   */
  async register(): Promise<boolean> {
    const added = await withSourceClient(this.options, (db) =>
      registerConsumer(db, this.queue, this.consumer),
    );
    if (added) this.tracking.remove();
    return added;
  }

  /** pgq.unregister_consumer, and the file removed: its position means nothing any more. */
  async unregister(): Promise<number> {
    const removed = await withSourceClient(this.options, (db) =>
      unregisterConsumer(db, this.queue, this.consumer),
    );
    this.tracking.remove();
    return removed;
  }

  /** Remove the file (upstream's --reset): the next start takes the queue's position. */
  reset(): boolean {
    return this.tracking.remove();
  }

  /**
   * Move the queue consumer to the file's tick (upstream's --rewind), refused while the
   * consumer runs in another process. Returns the tick.
   */
  async rewind(): Promise<number> {
    const { queue, consumer } = this;
    const tick = this.tracking.read();
    if (tick === null) {
      throw new SkytoolsError(
        'NO_TRACKING_FILE',
        `cannot rewind consumer ${JSON.stringify(consumer)} on queue ${JSON.stringify(queue)}: tracking file ${this.tracking.file} does not exist`,
        { queue, consumer, file: this.tracking.file },
      );
    }
    await withSourceClient(this.options, async (db) => {
      const { rows } = await db.query<{ locked: boolean }>(tryLockSql, [queue, consumer]);
      if (rows[0]?.locked !== true) {
        throw new SkytoolsError(
          'CONSUMER_LOCKED',
          `cannot rewind consumer ${JSON.stringify(consumer)} on queue ${JSON.stringify(queue)}: it is running in another process`,
          { queue, consumer },
        );
      }
      try {
        const from = await queueTick(db, queue, consumer);
        if (from !== tick) {
          await moveConsumer(db, queue, consumer, tick, this.tracking.file);
          this.#report({ action: 'repositioned', from, tick });
        }
      } finally {
        await db.query(unlockSql, [queue, consumer]);
      }
    });
    return tick;
  }

  /**
   * The batches to work on, one by one; as Consumer.batches. Finishing a batch (asking for
   * the next one, or `batch.finish()`) first writes its tick to the file. Batches the file
   * already covers are finished without being handed out.
   */
  async *batches(options: { signal?: AbortSignal } = {}): AsyncGenerator<Batch, void, undefined> {
    for await (const batch of this.#consumer.batches(options)) {
      const fileTick = this.tracking.read();
      const { tickId, prevTickId } = batch.info;
      if (fileTick === tickId) {
        // Done and saved before a crash that came before the finish: only finish it now.
        this.#skipping = batch.id;
        for await (const block of batch.blocks()) void block;
        this.log.info(
          { batch: batch.id, tick: tickId },
          `batch ${batch.id} already processed (${this.tracking.file} is at its tick): skipped`,
        );
        continue;
      }
      if (fileTick !== prevTickId) throw this.#lost(batch, fileTick);
      yield batch;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    return this.batches({ signal: this.#signal });
  }

  /**
   * Call `handler` for every event, in order, until `signal` aborts. A handler that throws
   * leaves the batch unfinished and the file untouched, and rejects the run (`HANDLER_FAILED`):
   * there is no retry queue. Lost connections are reopened and the batch is read again.
   */
  async run(handler: LocalEventHandler, options: LocalRunOptions = {}): Promise<void> {
    if (typeof handler !== 'function') {
      throw new SkytoolsError('BAD_OPTION', 'run() needs a handler function', this.#context());
    }
    const signals = [options.signal, options.stopNow].filter((s) => s !== undefined);
    const stop = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    for (;;) {
      try {
        for await (const batch of this.batches({ signal: stop })) {
          const context = { batch, signal: options.stopNow };
          for await (const block of batch.blocks()) {
            for (const event of block) {
              if (options.stopNow?.aborted) {
                await batch.abandon();
                return;
              }
              await this.#handle(handler, event, context);
            }
          }
        }
        return;
      } catch (error) {
        if (!isSessionLost(error) || !this.#reached || stop?.aborted) throw error;
        this.log.warn({ err: error }, 'connection lost: reading the batch again');
        await sleep(this.options.reconnectDelayMs, stop);
      }
    }
  }

  async #handle(handler: LocalEventHandler, event: Event, context: LocalHandlerContext) {
    try {
      await handler(event, context);
    } catch (error) {
      throw new SkytoolsError(
        'HANDLER_FAILED',
        `event ${event.id} of batch ${context.batch.id} failed; the batch is left unfinished and ${this.tracking.file} unchanged: ${(error as Error)?.message ?? String(error)}`,
        { ...this.#context(), batch: context.batch.id, event: event.id },
        { cause: error },
      );
    }
  }

  /** The batch's work is done: save its tick, before the queue hears of it. */
  async #save(batch: Batch): Promise<void> {
    if (this.#skipping === batch.id) {
      this.#skipping = null;
      return;
    }
    if (batch.retries.marks.size > 0 || batch.deadLetters.length > 0) {
      throw new SkytoolsError(
        'RETRY_UNSUPPORTED',
        `batch ${batch.id}: events cannot be retried by a LocalConsumer (the retry would be lost once the file holds the batch); the batch is left unfinished`,
        { ...this.#context(), batch: batch.id },
      );
    }
    this.tracking.write(batch.info.tickId);
    await this.#onSaved?.(batch);
  }

  #lost(batch: Batch, fileTick: number | null): SkytoolsError {
    const { tickId, prevTickId } = batch.info;
    const file = this.tracking.file;
    return new SkytoolsError(
      'LOST_POSITION',
      `Lost position: batch ${batch.id} of queue ${JSON.stringify(this.queue)} for consumer ${JSON.stringify(this.consumer)} goes from tick ${prevTickId} to ${tickId}, but ${file} is at ${fileTick === null ? 'no tick (the file is gone)' : `tick ${fileTick}`}; rewind() moves the queue consumer to the file's tick, reset() removes the file`,
      { ...this.#context(), file, batch: batch.id, fileTick, prevTick: prevTickId, tick: tickId },
    );
  }

  #report(result: PositionSync): void {
    const file = this.tracking.file;
    if (result.action === 'created') {
      this.log.info({ tick: result.tick, file }, `${file} started at tick ${result.tick}`);
    } else if (result.action === 'repositioned') {
      this.log.warn(
        { from: result.from, tick: result.tick, file },
        `consumer moved from tick ${result.from} to tick ${result.tick} of ${file}`,
      );
    }
  }

  #context() {
    return { queue: this.queue, consumer: this.consumer };
  }
}
