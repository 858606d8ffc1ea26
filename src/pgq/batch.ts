import type pg from 'pg';
import { quoteLiteral } from '../db/quote.js';
import { type ErrorCode, SkytoolsError } from '../errors.js';
import { BatchRetries } from './batch-retries.js';
import type { BlockSize } from './block-size.js';
import {
  batchCursorSql,
  batchEventsFilteredSql,
  batchEventsSql,
  cursorName,
  deadLetterSql,
  fetchSql,
  finishSql,
  moveSql,
  retryAndFinishSql,
} from './consumer-sql.js';
import { Event, type EventRow, rawTypes } from './event.js';

/** What pgq.next_batch_custom says about a batch. */
export interface BatchInfo {
  id: number;
  tickId: number;
  prevTickId: number;
  tickTime: Date;
  prevTickTime: Date;
  /** Event sequence at the two ticks: their difference hints at the batch size. */
  tickEventSeq: string;
  prevTickEventSeq: string;
}

export interface BatchSettings {
  queue: string;
  consumer: string;
  transactional: boolean;
  /** SQL condition over the event columns (get_batch_cursor's extra_where), or null. */
  filter: string | null;
  deadLetterQueue: string | null;
  /** The SQL function that finishes a batch; pgq.finish_batch when unset. */
  finishFunction?: string | undefined;
  /** Runs before finish_batch (LocalConsumer saves its position there); a throw abandons. */
  beforeFinish?: ((batch: Batch) => Promise<void> | void) | undefined;
}

type State = 'open' | 'finished' | 'abandoned';

/**
 * One batch of a consumer, read in blocks through get_batch_cursor so memory stays bounded
 * however large the batch is. Finished (retries and finish_batch in one transaction) only when
 * every block has been read; otherwise it is abandoned and delivered again.
 */
export class Batch implements AsyncIterable<Event> {
  readonly retries: BatchRetries;
  readonly deadLetters: Event[] = [];
  #state: State = 'open';
  #inTransaction = false;
  #exhausted = false;
  #first: EventRow[] | null = null;
  #carry: EventRow | null = null;
  #reading = false;
  #handedOut = 0;

  private constructor(
    readonly info: BatchInfo,
    readonly settings: BatchSettings,
    readonly connection: pg.Client,
    readonly sizes: BlockSize,
  ) {
    this.retries = new BatchRetries(info.id, settings);
  }

  get id(): number {
    return this.info.id;
  }
  get queue(): string {
    return this.settings.queue;
  }
  get consumer(): string {
    return this.settings.consumer;
  }
  get state(): State {
    return this.#state;
  }
  /** Events handed out so far. */
  get eventCount(): number {
    return this.#handedOut;
  }
  /** True once every event of the batch has been handed out. */
  get fullyRead(): boolean {
    return this.#exhausted && this.#first === null;
  }
  /**
   * In transactional mode, the consumer's client inside the batch's transaction: work done on
   * it commits together with finish_batch. Undefined otherwise.
   */
  get client(): pg.ClientBase | undefined {
    return this.settings.transactional ? this.connection : undefined;
  }

  /** Open the batch's cursor and read its first block (one round trip for a small batch). */
  static async open(
    connection: pg.Client,
    info: BatchInfo,
    settings: BatchSettings,
    sizes: BlockSize,
  ): Promise<Batch> {
    const batch = new Batch(info, settings, connection, sizes);
    try {
      await batch.#readFirst();
    } catch (error) {
      await batch.abandon();
      throw error;
    }
    return batch;
  }

  async #readFirst(): Promise<void> {
    await this.#readFirstBlock();
    // An empty batch (an idle tick) has nothing to read: it counts as read.
    if (this.#exhausted && this.#first?.length === 0) this.#first = null;
  }

  async #readFirstBlock(): Promise<void> {
    const size = this.sizes.next();
    const hint = Number(this.info.tickEventSeq) - Number(this.info.prevTickEventSeq);
    if (this.settings.transactional) await this.#begin();
    if (hint <= size) {
      // Most batches fit a block: read it whole in one statement (get_batch_events runs the
      // batch query without a row-by-row loop). One row more than a block tells whether it
      // really fits, since the hint misses retried events and long transactions.
      const rows = await this.#quickRows(size + 1);
      if (rows.length <= size) {
        this.#first = rows;
        this.#exhausted = true;
        return;
      }
      // Hand out `size` now; the extra row starts the next block, read from a cursor that
      // skips what we hold.
      this.#carry = rows.pop() as EventRow;
      this.#first = rows;
      await this.#openCursor();
      await this.connection.query(moveSql(size + 1));
      return;
    }
    await this.#openCursor();
    this.#first = await this.#fetch();
  }

  async #begin(): Promise<void> {
    await this.connection.query('begin');
    this.#inTransaction = true;
  }

  /** A cursor over the batch (get_batch_cursor, no rows at once); it lives as long as the transaction. */
  async #openCursor(): Promise<void> {
    if (!this.#inTransaction) await this.#begin();
    await this.connection.query(batchCursorSql, [
      this.info.id,
      cursorName,
      0,
      this.settings.filter,
    ]);
  }

  async #quickRows(limit: number): Promise<EventRow[]> {
    const result = await this.connection.query({
      text:
        this.settings.filter === null
          ? batchEventsSql
          : batchEventsFilteredSql(this.settings.filter),
      values: [this.info.id, limit],
      rowMode: 'array',
      types: rawTypes,
    });
    const rows = result.rows as EventRow[];
    this.sizes.observe(rows);
    return rows;
  }

  async #fetch(): Promise<EventRow[]> {
    const carry = this.#carry;
    this.#carry = null;
    const size = this.sizes.next() - (carry === null ? 0 : 1);
    if (size === 0) return [carry as EventRow];
    const result = await this.connection.query({
      text: fetchSql(size),
      rowMode: 'array',
      types: rawTypes,
    });
    const rows = result.rows as EventRow[];
    this.sizes.observe(rows);
    if (rows.length < size) this.#exhausted = true;
    if (carry !== null) rows.unshift(carry);
    return rows;
  }

  /** The events in blocks of at most `batchMaxEvents` (and about `batchMaxBytes`). Once only. */
  async *blocks(): AsyncGenerator<Event[], void, undefined> {
    if (this.#reading) {
      throw this.#error('BATCH_READ_TWICE', `batch ${this.id} can be read only once`);
    }
    this.#reading = true;
    this.#checkOpen();
    let rows = this.#first;
    while (rows !== null) {
      const block = new Array<Event>(rows.length);
      for (let i = 0; i < rows.length; i++) block[i] = new Event(rows[i] as EventRow, this.retries);
      if (this.#exhausted) this.#first = null;
      this.#handedOut += block.length;
      yield block;
      this.#checkOpen();
      if (this.#exhausted) break;
      rows = await this.#fetch();
      this.#first = rows;
    }
    this.#first = null;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Event, void, undefined> {
    for await (const block of this.blocks()) yield* block;
  }

  /** Mark an event for retry after `delaySeconds` (the same as `event.retry()`). */
  retry(event: Event, delaySeconds = 60): void {
    this.retries.retry(event, delaySeconds);
  }

  /** Send the event to the dead-letter queue when the batch is finished. */
  deadLetter(event: Event): void {
    this.retries.clearRetry(event);
    this.deadLetters.push(event);
  }

  /**
   * Write the retries (and dead letters) and finish_batch in one transaction: the batch is
   * acknowledged whole or not at all. Refused, leaving the batch for redelivery, when not every
   * event has been read.
   */
  async finish(): Promise<void> {
    this.#checkOpen();
    if (!this.fullyRead) {
      await this.abandon();
      throw this.#error(
        'BATCH_NOT_READ',
        `batch ${this.id} was not read to its end; it is left unfinished and will be delivered again`,
      );
    }
    if (this.settings.beforeFinish !== undefined) {
      try {
        await this.settings.beforeFinish(this);
      } catch (error) {
        await this.abandon();
        throw error;
      }
    }
    const marks = [...this.retries.marks.values()];
    if (this.deadLetters.length > 0 && !this.#inTransaction) await this.#begin();
    if (this.deadLetters.length > 0) await this.#writeDeadLetters();
    const { rows } =
      marks.length === 0
        ? await this.connection.query<{ ok: number }>(finishSql(this.settings.finishFunction), [
            this.id,
          ])
        : await this.connection.query<{ ok: number }>(
            retryAndFinishSql(this.settings.finishFunction),
            [this.id, marks.map((m) => m.event.id), marks.map((m) => m.delay)],
          );
    if (rows[0]?.ok !== 1) {
      await this.abandon();
      throw this.#error(
        'BATCH_NOT_OPEN',
        `batch ${this.id} was no longer open when finishing it; nothing of it was committed`,
      );
    }
    if (this.#inTransaction) {
      await this.connection.query('commit');
      this.#inTransaction = false;
    }
    this.#state = 'finished';
    this.retries.close();
  }

  async #writeDeadLetters(): Promise<void> {
    const queue = this.settings.deadLetterQueue as string;
    const list = this.deadLetters;
    await this.connection.query(deadLetterSql, [
      queue,
      list.map((e) => e.type),
      list.map((e) => e.data),
      list.map((e) => e.extra1),
      list.map((e) => e.extra2),
      list.map((e) => e.extra3),
      list.map((e) => e.extra4),
    ]);
  }

  /** Leave the batch unfinished (its transaction rolled back): it is delivered again. */
  async abandon(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'abandoned';
    this.#first = null;
    this.retries.close();
    if (this.#inTransaction) {
      this.#inTransaction = false;
      await this.connection.query('rollback').catch(() => {});
    }
  }

  #checkOpen(): void {
    if (this.#state !== 'open') {
      throw this.#error('BATCH_CLOSED', `batch ${this.id} is already ${this.#state}`);
    }
  }

  #error(code: ErrorCode, message: string): SkytoolsError {
    return new SkytoolsError(code, message, {
      queue: this.queue,
      consumer: this.consumer,
      batch: this.id,
    });
  }
}

/** get_batch_cursor's extra_where for a table filter: `ev_extra1 in (...)`. */
export function tableFilterSql(tables: readonly string[]): string {
  return `ev_extra1 in (${tables.map((t) => quoteLiteral(t)).join(', ')})`;
}
