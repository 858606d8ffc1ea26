import type pg from 'pg';
import { SkytoolsError } from '../errors.js';
import type { BatchInfo } from './batch.js';
import { registerConsumer, unregisterConsumer } from './consumer.js';
import type { ResolvedOptions } from './consumer-options.js';
import { withSourceClient } from './source-client.js';
import {
  checkPgqExt,
  noSubconsumer,
  type TargetBatch,
  TargetConsumer,
  type TargetConsumerOptions,
  type TargetEventHandler,
  type TargetRunOptions,
  type Tracking,
} from './target-consumer.js';

export type SerialConsumerOptions = TargetConsumerOptions;

const getTickSql = 'select pgq_ext.get_last_tick($1, $2) as tick';
const setTickSql = 'select pgq_ext.set_last_tick($1, $2, $3)';

async function targetTick(target: pg.ClientBase, consumer: string): Promise<number | null> {
  const { rows } = await target.query<{ tick: string | null }>(getTickSql, [
    consumer,
    noSubconsumer,
  ]);
  const tick = rows[0]?.tick;
  return tick === null || tick === undefined ? null : Number(tick);
}

/**
 * SerialConsumer's bookkeeping in the target (pgq_ext.get/set_last_tick), for callers that run
 * the target transaction themselves (the queue_mover job): a batch starting at the target's
 * tick is applied, one ending at it is skipped, any other is a lost position.
 */
export function serialTracking(queue: string, consumer: string): Tracking {
  return {
    check: (target) => checkPgqExt(target, { queue, consumer }),
    shouldApply: async (target: pg.ClientBase, batch: BatchInfo) => {
      const tick = await targetTick(target, consumer);
      // No tracking yet: a new target starts from wherever the queue consumer is.
      if (tick === null || tick === batch.prevTickId) return true;
      if (tick === batch.tickId) return false;
      throw new SkytoolsError(
        'LOST_POSITION',
        `Lost position: the target database is at tick ${tick}, but batch ${batch.id} of the queue goes from tick ${batch.prevTickId} to ${batch.tickId}; rewind() moves the queue consumer to the target's tick, reset() clears the target's tracking`,
        {
          queue,
          consumer,
          batch: batch.id,
          targetTick: tick,
          prevTick: batch.prevTickId,
          tick: batch.tickId,
        },
      );
    },
    markApplied: async (target: pg.ClientBase, batch: BatchInfo) => {
      await target.query(setTickSql, [consumer, noSubconsumer, batch.tickId]);
    },
  };
}

/**
 * Upstream's SerialConsumer: the target database keeps the last applied tick
 * (pgq_ext.set_last_tick) in the same transaction as the batch's work. A batch starting at
 * that tick is applied; one ending at it was applied already and is only finished; any other
 * tick means source and target disagree: a lost-position error (see rewind and reset).
 */
export class SerialConsumer implements AsyncIterable<TargetBatch> {
  readonly #core: TargetConsumer;

  constructor(options: SerialConsumerOptions) {
    const tracking = serialTracking(options?.queue, options?.consumer);
    this.#core = new TargetConsumer(options, tracking, 'SerialConsumer');
  }

  get options(): ResolvedOptions {
    return this.#core.options;
  }

  /** The target's last applied tick, or null when it tracks nothing for this consumer. */
  targetTick(): Promise<number | null> {
    return this.#core.withTarget((target) => targetTick(target, this.options.consumer));
  }

  /**
   * pgq.register_consumer on the source, and the target's tracking cleared: a new
   * registration starts at the queue's current tick. True when newly registered.
   */
  async register(): Promise<boolean> {
    const added = await withSourceClient(this.options, (db) =>
      registerConsumer(db, this.options.queue, this.options.consumer),
    );
    await this.reset();
    return added;
  }

  /** pgq.unregister_consumer on the source, and the target's tracking cleared. */
  async unregister(): Promise<number> {
    const removed = await withSourceClient(this.options, (db) =>
      unregisterConsumer(db, this.options.queue, this.options.consumer),
    );
    await this.reset();
    return removed;
  }

  /** Clear the target's tracking (upstream's --reset): the next batch is applied as it comes. */
  async reset(): Promise<void> {
    await this.#core.withTarget(async (target) => {
      await target.query(setTickSql, [this.options.consumer, noSubconsumer, null]);
    });
  }

  /**
   * Move the queue consumer to the target's tick (upstream's --rewind), so the next batch
   * starts where the target stopped. Returns that tick. Not while a consumer runs.
   */
  async rewind(): Promise<number> {
    const { queue, consumer } = this.options;
    const tick = await this.targetTick();
    if (tick === null) {
      throw new SkytoolsError(
        'NO_TARGET_TICK',
        `cannot rewind consumer ${JSON.stringify(consumer)} on queue ${JSON.stringify(queue)}: the target database tracks no tick for it`,
        { queue, consumer },
      );
    }
    await withSourceClient(this.options, (db) =>
      db.query('select pgq.register_consumer_at($1, $2, $3)', [queue, consumer, tick]),
    );
    return tick;
  }

  /** See TargetConsumer.run: events in order, in the batch's target transaction. */
  run(handler: TargetEventHandler, options?: TargetRunOptions): Promise<void> {
    return this.#core.run(handler, options);
  }

  batches(options?: { signal?: AbortSignal }): AsyncGenerator<TargetBatch, void, undefined> {
    return this.#core.batches(options);
  }

  [Symbol.asyncIterator](): AsyncGenerator<TargetBatch, void, undefined> {
    return this.#core.batches({ signal: this.#core.signal });
  }
}
