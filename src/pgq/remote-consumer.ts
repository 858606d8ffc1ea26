import type pg from 'pg';
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

export type RemoteConsumerOptions = TargetConsumerOptions;

/**
 * Upstream's RemoteConsumer: each batch is applied to another database in one transaction
 * that also records the batch id there (pgq_ext.set_batch_done); the source batch is finished
 * after that commit. A batch the target already has is finished without being applied again:
 * exactly-once in the target.
 */
export class RemoteConsumer implements AsyncIterable<TargetBatch> {
  readonly #core: TargetConsumer;

  constructor(options: RemoteConsumerOptions) {
    const consumer = options?.consumer;
    const tracking: Tracking = {
      check: (target) => checkPgqExt(target, { queue: options?.queue, consumer }),
      shouldApply: async (target: pg.Client, batch: BatchInfo) => {
        const { rows } = await target.query<{ done: boolean }>(
          'select pgq_ext.is_batch_done($1, $2, $3) as done',
          [consumer, noSubconsumer, batch.id],
        );
        return rows[0]?.done !== true;
      },
      markApplied: async (target: pg.Client, batch: BatchInfo) => {
        await target.query('select pgq_ext.set_batch_done($1, $2, $3)', [
          consumer,
          noSubconsumer,
          batch.id,
        ]);
      },
    };
    this.#core = new TargetConsumer(options, tracking, 'RemoteConsumer');
  }

  get options(): ResolvedOptions {
    return this.#core.options;
  }

  /** pgq.register_consumer on the source; true when newly registered. */
  register(): Promise<boolean> {
    return withSourceClient(this.options, (db) =>
      registerConsumer(db, this.options.queue, this.options.consumer),
    );
  }

  /** pgq.unregister_consumer on the source. */
  unregister(): Promise<number> {
    return withSourceClient(this.options, (db) =>
      unregisterConsumer(db, this.options.queue, this.options.consumer),
    );
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
