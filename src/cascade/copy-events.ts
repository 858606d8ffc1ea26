/**
 * Events written into a local queue with COPY into its current event table, block after
 * block as the provider hands them over, so memory holds one block and one 64 kB chunk at
 * most however large the batch. A merge-leaf's copy into the combined queue: the events keep
 * their time and payload, the combined queue numbers them itself. A branch keeps the
 * provider's ids and retry counts (`keepIds`); it streams bytes instead (branch-stream.ts)
 * unless a tool's hook must see or rewrite the events it forwards.
 */
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteQualified } from '../db/quote.js';
import { copyField } from '../pgq/copy-text.js';
import type { EventRow } from '../pgq/event.js';
import { currentEventTableSql } from './cascade-sql.js';
import { CascadeError } from './node-calls.js';

const chunkSize = 64 * 1024;

const columns = 'ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4';
const columnsWithIds = `ev_id, ${columns}, ev_retry`;

/** The current event table of `queue`, quoted; valid until the transaction ends. */
export async function currentEventTable(db: pg.ClientBase, queue: string): Promise<string> {
  const { rows } = await db.query<{ tbl: string }>(currentEventTableSql, [queue]);
  const name = rows[0]?.tbl;
  if (name === undefined)
    throw new CascadeError('NO_EVENT_TABLE', 'no current event table', { queue });
  const dot = name.indexOf('.');
  return quoteQualified(name.slice(0, dot), name.slice(dot + 1));
}

/**
 * One open COPY at a time on `db`, started by the first write: the caller ends it (`end`)
 * before running any other statement on the connection, e.g. for a cascade event.
 */
export class EventCopier {
  #stream: ReturnType<typeof copyFrom> | null = null;
  #failed: Promise<never> | null = null;
  #rows = 0;

  constructor(
    readonly db: pg.ClientBase,
    readonly table: string,
    /** Copy ev_id and ev_retry too (a branch's copy); else the queue numbers the events. */
    readonly keepIds = false,
  ) {}

  /** Rows written by every COPY of this copier so far. */
  get rows(): number {
    return this.#rows;
  }

  async write(rows: readonly EventRow[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.#stream === null) this.#open();
    let chunk = '';
    for (const r of rows) {
      // EventRow: ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4
      if (this.keepIds) chunk += `${r[0]}\t`;
      chunk +=
        `${r[1]}\t` +
        copyField(r[4] ?? null) +
        '\t' +
        copyField(r[5] ?? null) +
        '\t' +
        copyField(r[6] ?? null) +
        '\t' +
        copyField(r[7] ?? null) +
        '\t' +
        copyField(r[8] ?? null) +
        '\t' +
        copyField(r[9] ?? null) +
        (this.keepIds ? `\t${copyField(r[3] ?? null)}\n` : '\n');
      if (chunk.length >= chunkSize) {
        await this.#send(chunk);
        chunk = '';
      }
    }
    if (chunk !== '') await this.#send(chunk);
  }

  #open(): void {
    const stream = this.db.query(
      copyFrom(`copy ${this.table} (${this.keepIds ? columnsWithIds : columns}) from stdin`),
    ) as ReturnType<typeof copyFrom>;
    this.#failed = new Promise<never>((_, reject) => stream.once('error', reject));
    this.#failed.catch(() => {});
    this.#stream = stream;
  }

  async #send(text: string): Promise<void> {
    const stream = this.#stream as ReturnType<typeof copyFrom>;
    if (!stream.write(text)) await Promise.race([once(stream, 'drain'), this.#failed]);
  }

  /** Complete the open COPY, if any, so the connection takes statements again. */
  async end(): Promise<void> {
    const stream = this.#stream;
    if (stream === null) return;
    this.#stream = null;
    stream.end();
    await Promise.race([once(stream, 'finish'), this.#failed]);
    this.#rows += stream.rowCount;
  }

  /** Give up the open COPY (the caller rolls the transaction back). */
  async abort(): Promise<void> {
    const stream = this.#stream;
    if (stream === null) return;
    this.#stream = null;
    stream.on('error', () => {});
    const closed = once(stream, 'close').catch(() => {});
    stream.destroy(new Error('copy abandoned'));
    await closed;
  }
}
