/**
 * The session a cascaded consumer or worker keeps to its provider node. The provider is
 * whatever the local node says on each loop, so a change of provider (change-provider,
 * takeover, demote) is followed by closing this session and opening one to the new location.
 */
import type pg from 'pg';
import { type BatchInfo, Batch as PgqBatch } from '../pgq/batch.js';
import type { BlockSize } from '../pgq/block-size.js';
import type { Logger } from '../pgq/logger.js';
import type { Wakeup } from '../pgq/wakeup.js';
import { nextBatchSql, nextMergedBatchSql } from './cascade-sql.js';
import { connectNode, type NodeConnectOptions } from './node-connection.js';

/** A batch as next_batch_info gives it, with the tick data a branch copies as text. */
export interface ProviderBatchInfo extends BatchInfo {
  /** cur_tick_id, prev_tick_id, cur_tick_time and cur_tick_event_seq as the provider wrote them. */
  tick: string;
  prevTick: string;
  tickTimeText: string;
}

interface NextBatchRow {
  batch_id: string | null;
  cur_tick_id: string;
  prev_tick_id: string;
  cur_tick_time: string;
  prev_tick_time: string;
  cur_tick_event_seq: string;
  prev_tick_event_seq: string;
}

export class ProviderLink {
  #client: pg.Client | null = null;
  #node: string | null = null;
  #location: string | null = null;
  #broken = false;

  constructor(
    readonly queue: string,
    readonly options: NodeConnectOptions,
    readonly log: Logger,
    readonly wakeup: Wakeup,
  ) {}

  /** The node the session is open to, or null. */
  get node(): string | null {
    return this.#client === null ? null : this.#node;
  }

  /** The session to `node` at `location`: the open one if still the same and healthy. */
  async connect(node: string, location: string): Promise<pg.Client> {
    if (this.#client !== null && !this.#broken) {
      if (node === this.#node && location === this.#location) return this.#client;
      this.log.info({ from: this.#node, to: node }, 'provider changed: reconnecting');
    }
    await this.close();
    const client = await connectNode(location, { queue: this.queue, node }, this.options);
    this.#broken = false;
    const mark = () => {
      if (this.#client !== client) return;
      this.#broken = true;
      this.wakeup.wake();
    };
    client.on('error', mark);
    client.on('end', mark);
    client.on('notification', (msg) => {
      if (msg.channel === 'pgq_tick' && msg.payload === this.queue) this.wakeup.wake();
    });
    this.#client = client;
    this.#node = node;
    this.#location = location;
    try {
      // Event and tick times are copied as text: ISO output is what every server parses back.
      await client.query("set datestyle to 'ISO'");
      await client.query('listen pgq_tick');
    } catch (error) {
      await this.close();
      throw error;
    }
    return client;
  }

  /**
   * The next batch of `consumer`, or null when the provider has none yet: one tick, or with
   * `mergeEvents` every tick waiting up to about that many events.
   */
  async nextBatch(consumer: string, mergeEvents = 0): Promise<ProviderBatchInfo | null> {
    const client = this.#require();
    const { rows } =
      mergeEvents > 0
        ? await client.query<NextBatchRow>(nextMergedBatchSql, [this.queue, consumer, mergeEvents])
        : await client.query<NextBatchRow>(nextBatchSql, [this.queue, consumer]);
    const row = rows[0];
    if (row === undefined || row.batch_id === null) return null;
    return {
      id: Number(row.batch_id),
      tickId: Number(row.cur_tick_id),
      prevTickId: Number(row.prev_tick_id),
      tickTime: new Date(row.cur_tick_time),
      prevTickTime: new Date(row.prev_tick_time),
      tickEventSeq: row.cur_tick_event_seq,
      prevTickEventSeq: row.prev_tick_event_seq,
      tick: row.cur_tick_id,
      prevTick: row.prev_tick_id,
      tickTimeText: row.cur_tick_time,
    };
  }

  /** Open a batch for reading in bounded blocks; `filter` narrows what is read (a leaf). */
  openBatch(
    consumer: string,
    info: ProviderBatchInfo,
    sizes: BlockSize,
    filter: string | null = null,
  ): Promise<PgqBatch> {
    return PgqBatch.open(
      this.#require(),
      info,
      { queue: this.queue, consumer, transactional: false, filter, deadLetterQueue: null },
      sizes,
    );
  }

  get client(): pg.Client {
    return this.#require();
  }

  #require(): pg.Client {
    if (this.#client === null) throw new Error('provider session is not open');
    return this.#client;
  }

  /** Close the session (after an error its state is unknown, so the next loop reconnects). */
  async close(): Promise<void> {
    const client = this.#client;
    this.#client = null;
    this.#node = null;
    this.#location = null;
    if (client !== null) await client.end().catch(() => {});
  }
}
