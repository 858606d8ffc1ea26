import type pg from 'pg';
import { SkytoolsError } from '../errors.js';
import type { Batch, BatchInfo } from './batch.js';
import { Consumer } from './consumer.js';
import { type ConnectionSource, isSessionLost, openConsumerClient } from './consumer-connection.js';
import type { ConsumerOptions, ResolvedOptions } from './consumer-options.js';
import type { Event } from './event.js';
import type { Logger } from './logger.js';
import { sleep } from './wakeup.js';

export interface TargetConsumerOptions extends ConsumerOptions {
  /** The database the work goes into; pgq_ext must be installed there. */
  target: ConnectionSource;
  /**
   * Called after the target transaction has committed and before the source batch is
   * finished (for metrics; a crash here is the case the target's tracking covers).
   */
  onTargetCommit?: (batch: TargetBatch) => unknown;
}

export interface TargetHandlerContext {
  batch: TargetBatch;
  /** The target database's client, inside the batch's transaction there. */
  target: pg.ClientBase;
  /** Aborts on `stopNow`. */
  signal: AbortSignal | undefined;
}

/** Called once per event, in order; a throw rolls the target back and stops the run. */
export type TargetEventHandler = (event: Event, context: TargetHandlerContext) => unknown;

export interface TargetRunOptions {
  /** Graceful stop: the batch in hand is applied and finished, then `run` resolves. */
  signal?: AbortSignal;
  /** Immediate stop: the target transaction is rolled back, the batch left unfinished. */
  stopNow?: AbortSignal;
}

/** How a kind records in the target which batches are applied. */
export interface Tracking {
  /** Checks that the target has what it needs (pgq_ext); throws a clear error otherwise. */
  check(target: pg.Client): Promise<void>;
  /** True: apply the batch; false: the target already has it. Throws on a lost position. */
  shouldApply(target: pg.Client, batch: BatchInfo): Promise<boolean>;
  /** Record the batch as applied, in the target transaction. */
  markApplied(target: pg.Client, batch: BatchInfo): Promise<void>;
}

/** A batch with the target database's transaction open for its work. */
export class TargetBatch implements AsyncIterable<Event> {
  constructor(
    readonly batch: Batch,
    readonly target: pg.ClientBase,
  ) {}

  get id(): number {
    return this.batch.id;
  }
  get info(): BatchInfo {
    return this.batch.info;
  }
  blocks(): AsyncGenerator<Event[], void, undefined> {
    return this.batch.blocks();
  }
  [Symbol.asyncIterator](): AsyncGenerator<Event, void, undefined> {
    return this.batch[Symbol.asyncIterator]();
  }
}

const pgqExtSql =
  "select to_regprocedure('pgq_ext.get_last_tick(text,text)') is not null as installed";

/** pgq_ext keys its tracking by (consumer, subconsumer); a plain consumer has subconsumer ''. */
export const noSubconsumer = '';

/** pgq_ext must be installed in the target: the tracking lives there. */
export async function checkPgqExt(target: pg.Client, context: Record<string, unknown>) {
  const { rows } = await target.query<{ installed: boolean }>(pgqExtSql);
  if (rows[0]?.installed !== true) {
    throw new SkytoolsError(
      'PGQ_EXT_MISSING',
      'schema pgq_ext is not installed in the target database; install it there first (skytools install pgq_ext)',
      context,
    );
  }
}

/**
 * The loop the exactly-once kinds share: read a batch from the source, apply it in one target
 * transaction together with the kind's tracking, commit the target, then finish the batch on
 * the source. A crash between the two commits leaves the batch open on the source; the next
 * run finds it applied in the target and only finishes it.
 */
export class TargetConsumer {
  readonly consumer: Consumer;
  readonly log: Logger;
  /** The iterator form's stop signal (options.signal). */
  readonly signal: AbortSignal | undefined;
  readonly #target: ConnectionSource;
  readonly #tracking: Tracking;
  readonly #onCommit: ((batch: TargetBatch) => unknown) | undefined;
  #client: pg.Client | null = null;
  #broken = false;
  /** A target that cannot be reached at the very start is a setup error, not a lost session. */
  #reached = false;

  constructor(options: TargetConsumerOptions, tracking: Tracking, kind: string) {
    const context = { queue: options?.queue, consumer: options?.consumer };
    if (options?.target === undefined || options.target === null) {
      throw new SkytoolsError(
        'BAD_OPTION',
        `option target is required (the ${kind}'s target database)`,
        context,
      );
    }
    if (options.transactional === true) {
      throw new SkytoolsError(
        'BAD_OPTION',
        `option transactional does not apply to ${kind}: its work is in the target database's transaction`,
        context,
      );
    }
    this.consumer = new Consumer({
      ...options,
      applicationName: options.applicationName ?? `skytools ${kind} ${options.consumer}`,
    });
    this.log = this.consumer.log;
    this.signal = options.signal;
    this.#target = options.target;
    this.#tracking = tracking;
    this.#onCommit = options.onTargetCommit;
  }

  get options(): ResolvedOptions {
    return this.consumer.options;
  }

  /** A short connection to the target, for register/reset helpers. */
  async withTarget<T>(fn: (target: pg.Client) => Promise<T>): Promise<T> {
    const client = await openConsumerClient(this.#target, this.options.applicationName, () => {});
    try {
      await this.#tracking.check(client);
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /**
   * Batches applied one by one: the loop body does the target work on `batch.target`; asking
   * for the next batch commits the target and finishes the source batch. Leaving the loop
   * rolls the target back and leaves the batch unfinished.
   */
  async *batches(
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<TargetBatch, void, undefined> {
    try {
      yield* this.#apply(options);
    } finally {
      await this.close();
    }
  }

  async *#apply(options: { signal?: AbortSignal }): AsyncGenerator<TargetBatch, void, undefined> {
    for await (const batch of this.consumer.batches(options)) {
      const target = await this.#connect();
      await target.query('begin');
      let open = true;
      try {
        if (!(await this.#tracking.shouldApply(target, batch.info))) {
          // Applied before a crash that came between the target commit and the finish.
          for await (const block of batch.blocks()) void block;
          await target.query('rollback');
          open = false;
          this.log.info({ batch: batch.id }, 'batch already applied in the target: finished only');
          continue;
        }
        const applied = new TargetBatch(batch, target);
        yield applied;
        if (batch.state !== 'open') continue;
        if (!batch.fullyRead) continue; // the source refuses to finish it; rolled back below
        if (batch.retries.marks.size > 0 || batch.deadLetters.length > 0) {
          throw new SkytoolsError(
            'RETRY_UNSUPPORTED',
            `batch ${batch.id}: events cannot be retried here (the target has the batch applied whole or not at all); the target work was rolled back`,
            { queue: batch.queue, consumer: batch.consumer, batch: batch.id },
          );
        }
        await this.#tracking.markApplied(target, batch.info);
        await target.query('commit');
        open = false;
        await this.#onCommit?.(applied);
      } finally {
        if (open) await target.query('rollback').catch(() => {});
      }
    }
  }

  /**
   * Call `handler` for every event, in order, inside the batch's target transaction, until
   * `signal` aborts. A handler that throws rolls the target back, leaves the batch unfinished
   * and rejects the run with the error: there is no retry queue, since the batch is applied
   * whole or not at all. Lost connections are reopened and the batch is read again.
   */
  async run(handler: TargetEventHandler, options: TargetRunOptions = {}): Promise<void> {
    if (typeof handler !== 'function') {
      throw new SkytoolsError('BAD_OPTION', 'run() needs a handler function', {
        queue: this.options.queue,
        consumer: this.options.consumer,
      });
    }
    const signals = [options.signal, options.stopNow].filter((s) => s !== undefined);
    const stop = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    try {
      for (;;) {
        try {
          for await (const batch of this.batches({ signal: stop })) {
            const context = { batch, target: batch.target, signal: options.stopNow };
            for await (const block of batch.blocks()) {
              for (const event of block) {
                if (options.stopNow?.aborted) {
                  await batch.batch.abandon();
                  return;
                }
                await this.#handle(handler, event, context);
              }
            }
          }
          return;
        } catch (error) {
          if (!this.#lost(error) || !this.#reached || stop?.aborted) throw error;
          this.log.warn({ err: error }, 'connection lost: reading the batch again');
          await this.close();
          await sleep(this.options.reconnectDelayMs, stop);
        }
      }
    } finally {
      await this.close();
    }
  }

  async #handle(handler: TargetEventHandler, event: Event, context: TargetHandlerContext) {
    try {
      await handler(event, context);
    } catch (error) {
      if (this.#lost(error)) throw error;
      const { queue, consumer } = this.options;
      throw new SkytoolsError(
        'HANDLER_FAILED',
        `event ${event.id} of batch ${context.batch.id} failed; the target work of the batch was rolled back and the batch left unfinished: ${(error as Error)?.message ?? String(error)}`,
        { queue, consumer, batch: context.batch.id, event: event.id },
        { cause: error },
      );
    }
  }

  #lost(error: unknown): boolean {
    return this.#broken || isSessionLost(error);
  }

  async #connect(): Promise<pg.Client> {
    if (this.#client !== null && !this.#broken) return this.#client;
    await this.close();
    this.#broken = false;
    let opened: pg.Client | null = null;
    const client = await openConsumerClient(
      this.#target,
      `${this.options.applicationName} (target)`,
      () => {
        if (opened !== null && this.#client === opened) this.#broken = true;
      },
    );
    opened = client;
    this.#client = client;
    try {
      await this.#tracking.check(client);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#reached = true;
    return client;
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    if (client !== null) await client.end().catch(() => {});
  }
}
