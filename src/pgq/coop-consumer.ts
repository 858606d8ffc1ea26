import type pg from 'pg';
import type { Queryable } from '../db/queryable.js';
import { SkytoolsError } from '../errors.js';
import type { Batch, BatchInfo } from './batch.js';
import { Consumer } from './consumer.js';
import { openConsumerClient } from './consumer-connection.js';
import type { ConsumerOptions, ResolvedOptions } from './consumer-options.js';
import type { EventHandler, RunOptions } from './run-batch.js';

export interface CoopConsumerOptions extends ConsumerOptions {
  /** This member's name; pgq registers it as `<consumer>.<subconsumer>`. */
  subconsumer: string;
  /**
   * Seconds after which a sibling that has not asked for a batch is taken for dead and its
   * open batch is taken over. It must exceed the longest time one batch takes to handle, or a
   * slow live sibling loses its batch. Unset: batches of dead members are never taken over.
   */
  subconsumerTimeout?: number;
}

const nextBatchSql =
  'select pgq_coop.next_batch_custom($1, $2, $3, $4::interval, $5, $6::interval, $7::interval)' +
  ' as batch_id';
// A second statement: a function reading the subscription in the same statement as
// next_batch_custom would not see the row that call just wrote.
const batchInfoSql =
  'select prev_tick_id, tick_id, batch_start, batch_end, seq_start, seq_end' +
  ' from pgq.get_batch_info($1)';

interface InfoRow {
  prev_tick_id: string;
  tick_id: string;
  batch_start: Date;
  batch_end: Date;
  seq_start: string;
  seq_end: string;
}

/**
 * A member of a cooperative consumer (pgq_coop): the members of one consumer share its
 * position, each batch goes to exactly one of them. Same run and iterator forms, retries and
 * at-least-once guarantee as Consumer; one process per subconsumer name.
 */
export class CoopConsumer implements AsyncIterable<Batch> {
  readonly subconsumer: string;
  readonly #consumer: Consumer;
  readonly #deadInterval: string | null;

  constructor(options: CoopConsumerOptions) {
    const sub = options?.subconsumer;
    const context = { queue: options?.queue, consumer: options?.consumer, subconsumer: sub };
    if (typeof sub !== 'string' || sub === '') {
      throw new SkytoolsError(
        'BAD_OPTION',
        'option subconsumer must be a non-empty string',
        context,
      );
    }
    const timeout = options.subconsumerTimeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
      throw new SkytoolsError(
        'BAD_OPTION',
        `option subconsumerTimeout must be a number of seconds > 0, got ${String(timeout)}`,
        context,
      );
    }
    this.subconsumer = sub;
    this.#deadInterval = timeout === undefined ? null : `${timeout} seconds`;
    this.#consumer = new Consumer(
      {
        ...options,
        applicationName: options.applicationName ?? `skytools coop ${options.consumer}.${sub}`,
      },
      {
        lockName: `${options.consumer}.${sub}`,
        nextBatch: (client, o) => this.#nextBatch(client, o),
        finishFunction: 'pgq_coop.finish_batch',
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

  /** pgq_coop.register_subconsumer (the main consumer too when needed); true when new. */
  async register(): Promise<boolean> {
    return this.#withShortClient(async (db) => {
      const { rows } = await db.query<{ r: number }>(
        'select pgq_coop.register_subconsumer($1, $2, $3) as r',
        [this.queue, this.consumer, this.subconsumer],
      );
      return rows[0]?.r === 1;
    });
  }

  /**
   * pgq_coop.unregister_subconsumer: 1 when removed, 0 when not registered. With an open
   * batch it refuses unless `dropBatch` is set; then that batch's events are abandoned.
   */
  async unregister(options: { dropBatch?: boolean } = {}): Promise<number> {
    return this.#withShortClient(async (db) => {
      try {
        const { rows } = await db.query<{ r: number }>(
          'select pgq_coop.unregister_subconsumer($1, $2, $3, $4) as r',
          [this.queue, this.consumer, this.subconsumer, options.dropBatch === true ? 1 : 0],
        );
        return rows[0]?.r ?? 0;
      } catch (error) {
        if ((error as Error).message === 'subconsumer has active batch') {
          throw new SkytoolsError(
            'BATCH_OPEN',
            `subconsumer ${JSON.stringify(this.subconsumer)} of consumer ${JSON.stringify(this.consumer)} on queue ${JSON.stringify(this.queue)} has an open batch; finish it first, or unregister with dropBatch: true to abandon its events`,
            this.#context(),
            { cause: error },
          );
        }
        throw error;
      }
    });
  }

  /** As Consumer.run. */
  run(handler: EventHandler, options?: RunOptions): Promise<void> {
    return this.#consumer.run(handler, options);
  }

  /** As Consumer.batches. */
  batches(options?: { signal?: AbortSignal }): AsyncGenerator<Batch, void, undefined> {
    return this.#consumer.batches(options);
  }

  [Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    return this.#consumer[Symbol.asyncIterator]();
  }

  async #nextBatch(client: pg.Client, o: ResolvedOptions): Promise<BatchInfo | null> {
    const { rows } = await client.query<{ batch_id: string | null }>(nextBatchSql, [
      o.queue,
      o.consumer,
      this.subconsumer,
      o.minLag,
      o.minCount,
      o.minInterval,
      this.#deadInterval,
    ]);
    const id = rows[0]?.batch_id;
    if (id === null || id === undefined) return null;
    const info = await client.query<InfoRow>(batchInfoSql, [id]);
    const row = info.rows[0];
    if (row === undefined) {
      throw new SkytoolsError(
        'BATCH_NOT_OPEN',
        `batch ${id} given by pgq_coop.next_batch_custom is not open`,
        { ...this.#context(), batch: Number(id) },
      );
    }
    return {
      id: Number(id),
      tickId: Number(row.tick_id),
      prevTickId: Number(row.prev_tick_id),
      tickTime: row.batch_end,
      prevTickTime: row.batch_start,
      tickEventSeq: row.seq_end,
      prevTickEventSeq: row.seq_start,
    };
  }

  #context() {
    return { queue: this.queue, consumer: this.consumer, subconsumer: this.subconsumer };
  }

  async #withShortClient<T>(fn: (db: Queryable) => Promise<T>): Promise<T> {
    const o = this.options;
    const client = await openConsumerClient(o.connection, o.applicationName, () => {});
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }
}
