import type pg from 'pg';
import { fromDatabaseError, withDatabaseErrors } from '../db/database-error.js';
import type { Queryable } from '../db/queryable.js';
import { type ErrorCode, SkytoolsError } from '../errors.js';
import { Batch, type BatchInfo, type BatchSettings, tableFilterSql } from './batch.js';
import { BlockSize } from './block-size.js';
import { isSessionLost, openConsumerClient } from './consumer-connection.js';
import { type ConsumerOptions, type ResolvedOptions, resolveOptions } from './consumer-options.js';
import { nextBatchSql, subscriptionSql, unlockSql } from './consumer-sql.js';
import { childLogger, type Logger, silentLogger } from './logger.js';
import { type EventHandler, processBatch, type RunOptions } from './run-batch.js';
import { SessionLock } from './session-lock.js';
import { sleep, Wakeup } from './wakeup.js';

/** The channel the ticker notifies after a tick that ends a non-empty batch; payload = queue. */
export const tickChannel = 'pgq_tick';

interface NextBatchRow {
  batch_id: string | null;
  cur_tick_id: string;
  prev_tick_id: string;
  cur_tick_time: Date;
  prev_tick_time: Date;
  cur_tick_event_seq: string;
  prev_tick_event_seq: string;
}

/**
 * How a consumer kind other than the plain one (pgq_coop's subconsumers, LocalConsumer) takes,
 * checks and finishes batches. Internal: the kinds build on Consumer through it.
 */
export interface ConsumerKind {
  /** The name locked while running (one process per subconsumer); the consumer's by default. */
  lockName?: string;
  /** The next batch, or null when there is none yet; pgq.next_batch_custom by default. */
  nextBatch?(client: pg.Client, options: ResolvedOptions): Promise<BatchInfo | null>;
  /** The SQL function that finishes a batch (pgq.finish_batch by default). */
  finishFunction?: string;
  /**
   * After every (re)connect, once the lock is held: a kind that keeps its position elsewhere
   * makes the queue agree with it here, where no second process can interfere.
   */
  prepare?(client: pg.Client): Promise<void>;
  /** Before finish_batch; a throw leaves the batch unfinished. */
  beforeFinish?(batch: Batch): Promise<void> | void;
}

/**
 * PgQ's Consumer: reads the batches of one (queue, consumer) subscription, at least once.
 * Use `run(handler)` or `for await (const batch of consumer)`. One process per consumer name:
 * a session advisory lock on (queue, consumer) refuses a second one.
 */
export class Consumer implements AsyncIterable<Batch> {
  readonly options: ResolvedOptions;
  readonly log: Logger;
  readonly #signal: AbortSignal | undefined;
  readonly #wakeup = new Wakeup();
  readonly #sizes: BlockSize;
  readonly #settings: BatchSettings;
  #client: pg.Client | null = null;
  #broken = false;
  #running = false;
  #saidPolling = false;
  #carefulBatch: number | null = null;
  /** One process per (queue, consumer): the session lock, with our lost sessions ended. */
  readonly #sessionLock: SessionLock;
  /** performance.now() when the current session was opened (for connectionLifetime). */
  #connectedAt = 0;
  readonly #kind: ConsumerKind | undefined;

  constructor(options: ConsumerOptions, kind?: ConsumerKind) {
    this.#kind = kind;
    this.options = resolveOptions(options);
    const { queue, consumer } = this.options;
    this.log = childLogger(options.logger ?? silentLogger, { queue, consumer });
    this.#signal = options.signal;
    this.#sizes = new BlockSize(this.options.batchMaxEvents, this.options.batchMaxBytes);
    this.#settings = {
      queue,
      consumer,
      transactional: this.options.transactional,
      filter: this.options.tableFilter ? tableFilterSql(this.options.tableFilter) : null,
      deadLetterQueue: this.options.deadLetterQueue,
      finishFunction: kind?.finishFunction,
      beforeFinish: kind?.beforeFinish,
    };
    const lockName = kind?.lockName ?? consumer;
    this.#sessionLock = new SessionLock(
      [`pgq.consumer ${queue}`, lockName],
      (pid) =>
        new SkytoolsError(
          'CONSUMER_LOCKED',
          `consumer ${JSON.stringify(lockName)} on queue ${JSON.stringify(queue)} is already running in another process${pid === undefined ? '' : ` (backend pid ${pid})`}; only one may run at a time`,
          { queue, consumer: lockName, pid },
        ),
      this.log,
    );
  }

  /** The name locked: the consumer's, or a kind's own (a subconsumer). */
  get #lockName(): string {
    return this.#kind?.lockName ?? this.options.consumer;
  }

  get queue(): string {
    return this.options.queue;
  }
  get consumer(): string {
    return this.options.consumer;
  }

  /** pgq.register_consumer on a short connection of its own; true when newly registered. */
  async register(): Promise<boolean> {
    return this.#withShortClient((db) => registerConsumer(db, this.queue, this.consumer));
  }

  /** pgq.unregister_consumer; returns the number of subscriptions removed. */
  async unregister(): Promise<number> {
    return this.#withShortClient((db) => unregisterConsumer(db, this.queue, this.consumer));
  }

  /**
   * Call `handler` for every event, batch after batch, until `signal` aborts: then the
   * current batch is finished and the promise resolves. `stopNow` aborts without finishing
   * it (it is delivered again later). A handler that throws sends its event to retry after
   * `retryDelay` seconds; past `maxRetries` the event goes to the dead-letter queue, or the
   * run rejects naming the event and leaves the batch unfinished.
   */
  async run(handler: EventHandler, options: RunOptions = {}): Promise<void> {
    if (typeof handler !== 'function') {
      throw this.#error('BAD_OPTION', 'run() needs a handler function');
    }
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw this.#error('BAD_OPTION', `concurrency must be an integer >= 1, got ${concurrency}`);
    }
    const signals = [options.signal, options.stopNow].filter((s) => s !== undefined);
    const stop = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    for await (const batch of this.batches({ signal: stop })) {
      const careful = this.#carefulBatch === batch.id;
      try {
        const outcome = await processBatch(batch, handler, {
          careful,
          concurrency: careful ? 1 : concurrency,
          options: this.options,
          log: this.log,
          stopNow: options.stopNow,
        });
        if (outcome === 'replay-careful') {
          // A handler failed inside the batch's transaction: the whole batch was rolled back
          // and is read again with a savepoint per event, so only the failing one is retried.
          this.#carefulBatch = batch.id;
          await batch.abandon();
        } else if (outcome === 'stopped') {
          await batch.abandon();
          return;
        } else {
          this.#carefulBatch = null;
        }
      } catch (error) {
        await batch.abandon();
        if (this.#sessionLost(error)) {
          this.log.warn({ batch: batch.id, err: error }, 'connection lost during a batch');
          this.#broken = true;
          continue;
        }
        throw error;
      }
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    return this.batches({ signal: this.#signal });
  }

  /**
   * The batches one by one. A batch is finished when the next one is asked for, and only if it
   * was read to its end; leaving the loop (break, throw, abort) leaves the current batch
   * unfinished, so it is delivered again. Call `batch.finish()` first to finish it and stop.
   */
  async *batches(options: { signal?: AbortSignal } = {}): AsyncGenerator<Batch, void, undefined> {
    const signal = options.signal;
    if (this.#running) {
      throw this.#error('ALREADY_RUNNING', 'this consumer object is already running');
    }
    this.#running = true;
    let batch: Batch | null = null;
    try {
      try {
        await this.#connect();
      } catch (error) {
        // A server that cannot be reached at start is a setup error; a session lost just after
        // connecting is not: reconnect as at any other time.
        const code = (error as { code?: unknown }).code;
        if (code === 'CONNECT_FAILED' || !this.#sessionLost(error)) throw error;
        this.log.warn({ err: error }, 'connection lost while starting');
        this.#broken = true;
      }
      for (;;) {
        batch = await this.#nextBatch(signal);
        if (batch === null) return;
        yield batch;
        if (batch.state === 'open') {
          try {
            await batch.finish();
            this.log.debug(
              {
                batch: batch.id,
                count: batch.eventCount,
                retries: batch.retries.marks.size,
                deadLetters: batch.deadLetters.length,
              },
              'batch finished',
            );
          } catch (error) {
            if (!this.#sessionLost(error)) throw this.#wrap(error, `finishing batch ${batch.id}`);
            this.log.warn({ batch: batch.id, err: error }, 'connection lost finishing a batch');
            this.#broken = true;
          }
        }
        batch = null;
      }
    } finally {
      if (batch !== null) await batch.abandon();
      await this.#disconnect();
      this.#running = false;
    }
  }

  async #nextBatch(signal: AbortSignal | undefined): Promise<Batch | null> {
    for (;;) {
      if (signal?.aborted) return null;
      if (this.#broken || this.#client === null) {
        if (!(await this.#reconnect(signal))) return null;
      } else if (this.#expired()) {
        await this.#recycle();
        continue;
      }
      const client = this.#client as pg.Client;
      this.#wakeup.clear();
      try {
        const info = await this.#nextBatchInfo(client);
        if (info !== null) return await Batch.open(client, info, this.#settings, this.#sizes);
      } catch (error) {
        if (!this.#sessionLost(error)) throw this.#wrap(error, 'reading the next batch');
        this.log.warn({ err: error }, 'connection lost');
        this.#broken = true;
        continue;
      }
      await this.#wakeup.wait(this.options.loopDelayMs, signal);
    }
  }

  async #nextBatchInfo(client: pg.Client): Promise<BatchInfo | null> {
    const o = this.options;
    if (this.#kind?.nextBatch !== undefined) return this.#kind.nextBatch(client, o);
    const { rows } = await client.query<NextBatchRow>(nextBatchSql, [
      o.queue,
      o.consumer,
      o.minLag,
      o.minCount,
      o.minInterval,
    ]);
    const row = rows[0];
    if (!row || row.batch_id === null) return null;
    return {
      id: Number(row.batch_id),
      tickId: Number(row.cur_tick_id),
      prevTickId: Number(row.prev_tick_id),
      tickTime: row.cur_tick_time,
      prevTickTime: row.prev_tick_time,
      tickEventSeq: row.cur_tick_event_seq,
      prevTickEventSeq: row.prev_tick_event_seq,
    };
  }

  /** Connect, check the subscription, take the lock, LISTEN. Throws on every refusal. */
  async #connect(): Promise<void> {
    const o = this.options;
    this.#broken = false;
    let opened: pg.Client | null = null;
    const client = await openConsumerClient(o.connection, o.applicationName, () => {
      // A client closed or replaced earlier must not mark the current one broken.
      if (opened === null || this.#client !== opened) return;
      this.#broken = true;
      this.#wakeup.wake();
    });
    opened = client;
    this.#client = client;
    this.#connectedAt = performance.now();
    client.on('notification', (msg) => {
      if (msg.channel === tickChannel && msg.payload === o.queue) this.#wakeup.wake();
    });
    try {
      await this.#checkSubscription(client);
      if (o.poolerMode) {
        this.log.warn(
          {},
          'pooler mode: no advisory lock (a second process with this consumer name is not refused) and no LISTEN',
        );
      } else {
        await this.#lock(client);
      }
      await this.#kind?.prepare?.(client);
      let listening = false;
      if (o.listen) {
        try {
          await client.query(`listen ${tickChannel}`);
          listening = true;
        } catch (error) {
          if (this.#sessionLost(error)) throw error;
          this.log.warn({ err: error }, `cannot LISTEN ${tickChannel}`);
        }
      }
      if (!listening && !this.#saidPolling) {
        this.#saidPolling = true;
        this.log.info(
          { loopDelay: o.loopDelayMs / 1000 },
          `no tick notifications: polling every ${o.loopDelayMs / 1000} s`,
        );
      }
    } catch (error) {
      await this.#disconnect();
      throw this.#wrap(error, 'starting');
    }
  }

  async #checkSubscription(client: pg.Client): Promise<void> {
    const { queue, consumer } = this.options;
    const { rows } = await client.query<{ registered: boolean | null }>(subscriptionSql, [
      queue,
      consumer,
    ]);
    if (rows.length === 0) {
      throw this.#error('QUEUE_NOT_FOUND', `queue ${JSON.stringify(queue)} does not exist`);
    }
    if (rows[0]?.registered !== true) {
      throw this.#error(
        'CONSUMER_NOT_REGISTERED',
        `consumer ${JSON.stringify(consumer)} is not registered on queue ${JSON.stringify(queue)}; register it first (consumer.register() or pgq.register_consumer)`,
      );
    }
  }

  async #lock(client: pg.Client): Promise<void> {
    await this.#sessionLock.take(client);
  }

  /** Older than connectionLifetime: upstream's DBScript reopens such sessions between loops. */
  #expired(): boolean {
    const lifetime = this.options.connectionLifetimeMs;
    return lifetime !== null && performance.now() - this.#connectedAt >= lifetime;
  }

  /** Close the old session and open a new one at once (no reconnect delay: nothing failed). */
  async #recycle(): Promise<void> {
    this.log.debug({}, 'connection older than connectionLifetime: reopening it');
    await this.#disconnect();
    try {
      await this.#connect();
    } catch (error) {
      if (!this.#sessionLost(error)) throw error;
      this.log.warn({ err: error }, 'reopening the connection failed');
      this.#broken = true;
    }
  }

  async #reconnect(signal: AbortSignal | undefined): Promise<boolean> {
    await this.#disconnect();
    for (;;) {
      await sleep(this.options.reconnectDelayMs, signal);
      if (signal?.aborted) return false;
      try {
        await this.#connect();
        this.log.info({}, 'reconnected');
        return true;
      } catch (error) {
        if (!this.#sessionLost(error)) throw error;
        this.log.warn({ err: error }, 'reconnect failed; trying again');
      }
    }
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (client === null) return;
    if (!this.#broken && !this.options.poolerMode) {
      await client.query(unlockSql, [this.queue, this.#lockName]).catch(() => {});
    }
    await client.end().catch(() => {});
  }

  #sessionLost(error: unknown): boolean {
    return this.#broken || isSessionLost(error);
  }

  async #withShortClient<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    const client = await openConsumerClient(
      this.options.connection,
      this.options.applicationName,
      () => {},
    );
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  #error(code: ErrorCode, message: string): SkytoolsError {
    return new SkytoolsError(code, message, { queue: this.queue, consumer: this.consumer });
  }

  /** A driver's error as our typed one, naming what was being done and for whom. */
  #wrap(error: unknown, action: string): SkytoolsError {
    return fromDatabaseError(error, { action, queue: this.queue, consumer: this.consumer });
  }
}

/** pgq.register_consumer: true when newly registered, false when it already was. */
export async function registerConsumer(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<boolean> {
  const { rows } = await withDatabaseErrors({ action: 'register_consumer', queue, consumer }, () =>
    db.query<{ r: number }>('select pgq.register_consumer($1, $2) as r', [queue, consumer]),
  );
  return rows[0]?.r === 1;
}

/** pgq.unregister_consumer: the number of subscriptions removed (0 when not registered). */
export async function unregisterConsumer(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<number> {
  const { rows } = await withDatabaseErrors(
    { action: 'unregister_consumer', queue, consumer },
    () => db.query<{ r: number }>('select pgq.unregister_consumer($1, $2) as r', [queue, consumer]),
  );
  return rows[0]?.r ?? 0;
}
