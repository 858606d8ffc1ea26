import pg from 'pg';
import type { BatchRetries } from './batch-retries.js';

/**
 * A row of a batch as the driver hands it over: the columns of pgq.get_batch_events in
 * order, every value the server's text (no per-row parsing; {@link Event} converts on access).
 */
export type EventRow = (string | null)[];

/** Columns the consumer selects, in {@link EventRow} order. */
export const eventColumns =
  'ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4';

// Handed to pg as a query's `types`: every column stays text, so reading a row costs only
// the driver's field slicing.
const keepText = (value: string) => value;
export const rawTypes = { getTypeParser: () => keepText };

let parseTimestamptz: ((value: string) => Date) | undefined;

/**
 * One event of a batch: pgq.Event of upstream, with `retryCount` for ev_retry and `retry()`
 * to hand the event back. Ids and txids are int8 and stay text, as `pg` returns them.
 */
export class Event {
  constructor(
    readonly row: EventRow,
    readonly batch: BatchRetries,
  ) {}

  get id(): string {
    return this.row[0] as string;
  }
  /** ev_time: when the event was inserted (the producer transaction's start). */
  get time(): Date {
    parseTimestamptz ??= pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (
      value: string,
    ) => Date;
    return parseTimestamptz(this.row[1] as string);
  }
  get txid(): string {
    return this.row[2] as string;
  }
  /** ev_retry: how many times the event has been retried before (null on first delivery). */
  get retryCount(): number | null {
    const value = this.row[3];
    return value === null || value === undefined ? null : Number(value);
  }
  get type(): string | null {
    return this.row[4] ?? null;
  }
  /** ev_data as stored: text, JSON for events made by this library's producer. */
  get data(): string | null {
    return this.row[5] ?? null;
  }
  get extra1(): string | null {
    return this.row[6] ?? null;
  }
  get extra2(): string | null {
    return this.row[7] ?? null;
  }
  get extra3(): string | null {
    return this.row[8] ?? null;
  }
  get extra4(): string | null {
    return this.row[9] ?? null;
  }
  /** ev_data parsed as JSON (null data gives null). */
  json<T = unknown>(): T {
    const data = this.row[5];
    return (data === null || data === undefined ? null : JSON.parse(data)) as T;
  }
  /**
   * Hand the event back: pgq.event_retry puts it in the retry queue, in the same transaction
   * as the batch's finish_batch, and maintenance re-inserts it after `delaySeconds`.
   */
  retry(delaySeconds = 60): void {
    this.batch.retry(this, delaySeconds);
  }
  /** Undo an earlier `retry()` of this event in the same batch. */
  done(): void {
    this.batch.clearRetry(this);
  }
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      txid: this.txid,
      time: this.row[1],
      retryCount: this.retryCount,
      type: this.type,
      data: this.data,
      extra1: this.extra1,
      extra2: this.extra2,
      extra3: this.extra3,
      extra4: this.extra4,
    };
  }
}
