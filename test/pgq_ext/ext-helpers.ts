/** Calls of schema pgq_ext's SQL API, in the full form (with subconsumer) or the short one. */
import type { Queryable } from '../../src/db/queryable.js';

export { expectPgError, hostileNames } from '../pgq/consumer-helpers.js';

async function one<T>(db: Queryable, sql: string, values: unknown[]): Promise<T> {
  const { rows } = await db.query<{ r: T }>(sql, values);
  return rows[0]?.r as T;
}

/** `sub` undefined: the short form (subconsumer ''). */
export function isBatchDone(db: Queryable, consumer: string, batch: number, sub?: string) {
  return sub === undefined
    ? one<boolean>(db, 'select pgq_ext.is_batch_done($1, $2) as r', [consumer, batch])
    : one<boolean>(db, 'select pgq_ext.is_batch_done($1, $2, $3) as r', [consumer, sub, batch]);
}

export function setBatchDone(db: Queryable, consumer: string, batch: number, sub?: string) {
  return sub === undefined
    ? one<boolean>(db, 'select pgq_ext.set_batch_done($1, $2) as r', [consumer, batch])
    : one<boolean>(db, 'select pgq_ext.set_batch_done($1, $2, $3) as r', [consumer, sub, batch]);
}

export function isEventDone(
  db: Queryable,
  consumer: string,
  batch: number,
  event: number,
  sub?: string,
) {
  return sub === undefined
    ? one<boolean>(db, 'select pgq_ext.is_event_done($1, $2, $3) as r', [consumer, batch, event])
    : one<boolean>(db, 'select pgq_ext.is_event_done($1, $2, $3, $4) as r', [
        consumer,
        sub,
        batch,
        event,
      ]);
}

export function setEventDone(
  db: Queryable,
  consumer: string,
  batch: number,
  event: number,
  sub?: string,
) {
  return sub === undefined
    ? one<boolean>(db, 'select pgq_ext.set_event_done($1, $2, $3) as r', [consumer, batch, event])
    : one<boolean>(db, 'select pgq_ext.set_event_done($1, $2, $3, $4) as r', [
        consumer,
        sub,
        batch,
        event,
      ]);
}

export async function getLastTick(db: Queryable, consumer: string, sub?: string) {
  const tick =
    sub === undefined
      ? await one<string | null>(db, 'select pgq_ext.get_last_tick($1) as r', [consumer])
      : await one<string | null>(db, 'select pgq_ext.get_last_tick($1, $2) as r', [consumer, sub]);
  return tick === null || tick === undefined ? null : Number(tick);
}

export function setLastTick(db: Queryable, consumer: string, tick: number | null, sub?: string) {
  return sub === undefined
    ? one<number>(db, 'select pgq_ext.set_last_tick($1, $2) as r', [consumer, tick])
    : one<number>(db, 'select pgq_ext.set_last_tick($1, $2, $3) as r', [consumer, sub, tick]);
}

/** Every row of every pgq_ext table, to check that a refused call changed nothing. */
export async function extState(db: Queryable): Promise<string> {
  const parts: unknown[] = [];
  for (const table of ['completed_tick', 'completed_batch', 'completed_event', 'partial_batch']) {
    const { rows } = await db.query(`select * from pgq_ext.${table} order by 1, 2, 3`);
    parts.push(rows);
  }
  return JSON.stringify(parts);
}
