/**
 * Helpers for the tests of pgq's consumer side: registration, batches, retry, info and
 * maintenance. Queues are made with pgq.create_queue and ticked with pgq.ticker; a queue made
 * by {@link makeQueue} ticks on every pgq.ticker(queue) call.
 */
import type pg from 'pg';
import { expect } from 'vitest';

import type { Queryable } from '../../src/db/queryable.js';

export { expectPgError } from '../harness/assertions.js';
export type { Queryable };

/** Consumer and queue names that must work: case, quotes, spaces, dots, unicode, injection. */
export const hostileNames = [
  'MixedCase',
  'with space',
  'dot.ted',
  'quo"te',
  "apos'trophe",
  'back\\slash',
  'ünïcödé_名前',
  'select',
  '%s %I',
  "x'); drop table victim; --",
];

/**
 * Create a queue whose ticker ticks whenever asked (max_lag and idle_period 0), so tests tick
 * with a plain `pgq.ticker(queue)`.
 */
export async function makeQueue(db: Queryable, queue: string): Promise<void> {
  const { rows } = await db.query('select pgq.create_queue($1) as r', [queue]);
  expect(rows[0]?.r).toBe(1);
  await db.query(
    `update pgq.queue set queue_ticker_max_lag = '0', queue_ticker_idle_period = '0'
      where queue_name = $1`,
    [queue],
  );
}

/** Tick the queue now; returns the new tick id. */
export async function tick(db: Queryable, queue: string): Promise<number> {
  const { rows } = await db.query<{ t: string | null }>('select pgq.ticker($1) as t', [queue]);
  const id = rows[0]?.t;
  if (id === null || id === undefined) throw new Error(`queue ${queue} did not tick`);
  return Number(id);
}

export async function insertEvent(
  db: Queryable,
  queue: string,
  type: string,
  data: string,
): Promise<number> {
  const { rows } = await db.query<{ id: string }>('select pgq.insert_event($1, $2, $3) as id', [
    queue,
    type,
    data,
  ]);
  return Number(rows[0]?.id);
}

export async function register(db: Queryable, queue: string, consumer: string): Promise<number> {
  const { rows } = await db.query<{ r: number }>('select pgq.register_consumer($1, $2) as r', [
    queue,
    consumer,
  ]);
  return rows[0]?.r as number;
}

export async function nextBatch(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<number | null> {
  const { rows } = await db.query<{ b: string | null }>('select pgq.next_batch($1, $2) as b', [
    queue,
    consumer,
  ]);
  const id = rows[0]?.b;
  return id === null || id === undefined ? null : Number(id);
}

export interface BatchEvent {
  ev_id: string;
  ev_time: Date;
  ev_txid: string;
  ev_retry: number | null;
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
  ev_extra4: string | null;
}

export async function batchEvents(db: Queryable, batchId: number): Promise<BatchEvent[]> {
  const { rows } = await db.query<BatchEvent>('select * from pgq.get_batch_events($1)', [batchId]);
  return rows;
}

export async function finishBatch(db: Queryable, batchId: number): Promise<number> {
  const { rows } = await db.query<{ r: number }>('select pgq.finish_batch($1) as r', [batchId]);
  return rows[0]?.r as number;
}

/**
 * Take the consumer's next batch, read it and finish it. Returns the event data in batch
 * order, or null when there was no batch.
 */
export async function consume(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<string[] | null> {
  const batchId = await nextBatch(db, queue, consumer);
  if (batchId === null) return null;
  const events = await batchEvents(db, batchId);
  await finishBatch(db, batchId);
  return events.map((ev) => ev.ev_data ?? '');
}

/** Consume every batch available now; returns each batch's event data. */
export async function consumeAll(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<string[][]> {
  const batches: string[][] = [];
  for (;;) {
    const batch = await consume(db, queue, consumer);
    if (batch === null) return batches;
    batches.push(batch);
  }
}

export async function queueRow(db: Queryable, queue: string): Promise<Record<string, unknown>> {
  const { rows } = await db.query('select * from pgq.queue where queue_name = $1', [queue]);
  const row = rows[0];
  if (!row) throw new Error(`no queue ${queue}`);
  return row;
}

export async function subscription(
  db: Queryable,
  queue: string,
  consumer: string,
): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query(
    `select s.* from pgq.subscription s
       join pgq.queue q on q.queue_id = s.sub_queue
       join pgq.consumer c on c.co_id = s.sub_consumer
      where q.queue_name = $1 and c.co_name = $2`,
    [queue, consumer],
  );
  return rows[0];
}

/** Snapshot of every pgq meta table, to check that a failed call changed nothing. */
export async function metaState(db: Queryable): Promise<string> {
  const parts: unknown[] = [];
  for (const table of ['queue', 'consumer', 'subscription', 'tick', 'retry_queue']) {
    const { rows } = await db.query(`select * from pgq.${table} order by 1, 2`);
    parts.push(rows);
  }
  const seq = await db.query('select last_value, is_called from pgq.batch_id_seq');
  parts.push(seq.rows);
  return JSON.stringify(parts);
}

/** Collect NOTICE/WARNING messages a client receives while `fn` runs. */
export async function collectNotices<T>(
  client: pg.Client,
  fn: () => Promise<T>,
): Promise<{ result: T; notices: { severity: string; message: string }[] }> {
  const notices: { severity: string; message: string }[] = [];
  const listener = (msg: { severity?: string; message?: string }) => {
    notices.push({ severity: msg.severity ?? '', message: msg.message ?? '' });
  };
  client.on('notice', listener);
  try {
    const result = await fn();
    return { result, notices };
  } finally {
    client.off('notice', listener);
  }
}

/** Make `count` transactions so that txids move on (each autocommit statement is one). */
export async function burnTxids(db: Queryable, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await db.query('select txid_current()');
  }
}

/** Wait (with a generous deadline) until the backend `pid` waits for a lock. */
export async function waitForLockWait(db: Queryable, pid: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { rows } = await db.query('select wait_event_type from pg_stat_activity where pid = $1', [
      pid,
    ]);
    if (rows[0]?.wait_event_type === 'Lock') return;
    if (Date.now() > deadline) throw new Error(`backend ${pid} never waited for a lock`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
