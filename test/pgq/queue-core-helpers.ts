/**
 * Helpers for the tests of pgq's queue management, producing and ticking. They read the
 * tables directly, so these tests do not depend on the consumer-side functions.
 */
import type pg from 'pg';

import type { Queryable } from '../../src/db/queryable.js';

export { expectPgError } from '../harness/assertions.js';
export type { Queryable };

/**
 * Queue names that must work everywhere: case, quotes, spaces, dots, backslashes, unicode,
 * SQL keywords and an injection attempt aimed at the table `victim`.
 */
export const hostileQueueNames = [
  'MixedCase',
  'with space',
  'dot.ted',
  'two.dots.here',
  '.leading.dot',
  'quo"te',
  "apos'trophe",
  'back\\slash',
  'ünïcödé_名前',
  'select',
  'pgq.queue',
  '%s %d %I',
  "x'); drop table victim; --",
  'x"; drop table victim; --',
  '',
];

export async function queueId(db: Queryable, queue: string): Promise<number> {
  const { rows } = await db.query<{ queue_id: number }>(
    'select queue_id from pgq.queue where queue_name = $1',
    [queue],
  );
  const row = rows[0];
  if (!row) throw new Error(`no queue ${JSON.stringify(queue)}`);
  return row.queue_id;
}

/** Tick ids of a queue, oldest first. */
export async function tickIds(db: Queryable, queue: string): Promise<number[]> {
  const { rows } = await db.query<{ tick_id: string }>(
    `select t.tick_id from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
      where q.queue_name = $1 order by t.tick_id`,
    [queue],
  );
  return rows.map((row) => Number(row.tick_id));
}

export async function lastTickId(db: Queryable, queue: string): Promise<number | null> {
  const ids = await tickIds(db, queue);
  return ids.length ? (ids[ids.length - 1] ?? null) : null;
}

/** Current value of the queue's event sequence, as pgq.seq_getval reads it. */
export async function eventSeq(db: Queryable, queue: string): Promise<number> {
  const { rows } = await db.query<{ v: string }>(
    'select pgq.seq_getval(queue_event_seq) as v from pgq.queue where queue_name = $1',
    [queue],
  );
  return Number(rows[0]?.v);
}

/** Move every tick of a queue back in time (simulates time passing since the ticks). */
export async function ageTicks(db: Queryable, queue: string, seconds: number): Promise<void> {
  await db.query(
    `update pgq.tick set tick_time = tick_time - make_interval(secs => $2)
      where tick_queue = (select queue_id from pgq.queue where queue_name = $1)`,
    [queue, seconds],
  );
}

export interface EventRow {
  ev_id: string;
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
  ev_extra4: string | null;
}

/**
 * Events of a queue that belong to the batch between two of its ticks: their transaction
 * is invisible in the first tick's snapshot and visible in the second's (PgQ's definition).
 */
export async function eventsBetweenTicks(
  db: Queryable,
  queue: string,
  prevTick: number,
  curTick: number,
): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `select e.ev_id, e.ev_type, e.ev_data, e.ev_extra1, e.ev_extra2, e.ev_extra3, e.ev_extra4
       from pgq.event_template e
       join pgq.tick p on p.tick_id = $2
       join pgq.tick c on c.tick_id = $3 and c.tick_queue = p.tick_queue
       join pgq.queue q on q.queue_id = p.tick_queue
      where q.queue_name = $1
        and e.tableoid in (select inhrelid from pg_inherits
                            where inhparent = (q.queue_data_pfx)::regclass)
        and txid_visible_in_snapshot(e.ev_txid, c.tick_snapshot)
        and not txid_visible_in_snapshot(e.ev_txid, p.tick_snapshot)
      order by e.ev_id`,
    [queue, prevTick, curTick],
  );
  return rows;
}

/** Run `fn` in a transaction on a client, committing on success and rolling back on error. */
export async function inTransaction<T>(
  client: pg.ClientBase,
  fn: (client: pg.ClientBase) => Promise<T>,
): Promise<T> {
  await client.query('begin');
  try {
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}
