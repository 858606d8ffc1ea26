/**
 * Helpers for the tests of the Node library (src/pgq): queues that tick on demand, a ticker
 * connection of the test's own (pgqd is not running, so the tests are the only ticker and tick
 * one call at a time), and reading batches with plain SQL to check what the library did.
 */
import type pg from 'pg';
import { expect } from 'vitest';
import type { Queryable } from '../../src/db/queryable.js';
import type { Logger } from '../../src/pgq/logger.js';

export type { Queryable };

/** A queue whose ticker ticks on every pgq.ticker(queue) call (max_lag, idle_period 0). */
export async function makeQueue(db: Queryable, queue: string): Promise<void> {
  const { rows } = await db.query('select pgq.create_queue($1) as r', [queue]);
  expect(rows[0]?.r).toBe(1);
  await db.query(
    `update pgq.queue set queue_ticker_max_lag = '0', queue_ticker_idle_period = '0'
      where queue_name = $1`,
    [queue],
  );
}

/** Tick the queue (force_tick so even one event gives a batch); returns the tick id. */
export async function tick(db: Queryable, queue: string): Promise<number> {
  await db.query('select pgq.force_tick($1)', [queue]);
  const { rows } = await db.query<{ t: string | null }>('select pgq.ticker($1) as t', [queue]);
  return Number(rows[0]?.t);
}

export async function register(db: Queryable, queue: string, consumer: string): Promise<void> {
  await db.query('select pgq.register_consumer($1, $2)', [queue, consumer]);
}

export interface RawEvent {
  ev_id: string;
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
  ev_extra4: string | null;
  ev_txid: string;
  ev_retry: number | null;
}

/** Take, read and finish the consumer's next batch with plain SQL; null when none. */
export async function consumeSql(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<RawEvent[] | null> {
  const { rows } = await db.query<{ b: string | null }>('select pgq.next_batch($1, $2) as b', [
    queue,
    consumer,
  ]);
  const batch = rows[0]?.b;
  if (batch === null || batch === undefined) return null;
  const events = await db.query<RawEvent>('select * from pgq.get_batch_events($1)', [batch]);
  await db.query('select pgq.finish_batch($1)', [batch]);
  return events.rows;
}

/** Every event available to the consumer now, batch after batch. */
export async function consumeAllSql(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<RawEvent[]> {
  const all: RawEvent[] = [];
  for (;;) {
    const batch = await consumeSql(db, queue, consumer);
    if (batch === null) return all;
    all.push(...batch);
  }
}

/** A logger that keeps every line, for asserting what the library said. */
export function memoryLogger(): Logger & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at =
    (level: string) =>
    (obj: object, msg = '') => {
      lines.push({ level, msg, obj });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Run `fn` in a transaction on `client`; commits on success, rolls back on error. */
export async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('begin');
  try {
    const result = await fn();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

/** Wait (generous deadline, no timing asserted) until `check` returns true. */
export async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 40_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
