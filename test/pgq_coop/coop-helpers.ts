/**
 * Helpers for the tests of schema pgq_coop: calls of its SQL API and a look at the rows it
 * keeps in pgq.subscription. Queues come from {@link makeQueue} (ticks on every pgq.ticker).
 */
import type { Queryable } from '../../src/db/queryable.js';

export {
  batchEvents,
  collectNotices,
  expectPgError,
  hostileNames,
  insertEvent,
  makeQueue,
  metaState,
  tick,
} from '../pgq/consumer-helpers.js';

function toId(value: string | null | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export async function registerSub(
  db: Queryable,
  queue: string,
  consumer: string,
  sub: string,
): Promise<number> {
  const { rows } = await db.query<{ r: number }>(
    'select pgq_coop.register_subconsumer($1, $2, $3) as r',
    [queue, consumer, sub],
  );
  return rows[0]?.r as number;
}

/** pgq_coop.next_batch, with the dead_interval form when `dead` is given. */
export async function coopNext(
  db: Queryable,
  queue: string,
  consumer: string,
  sub: string,
  dead?: string | null,
): Promise<number | null> {
  const { rows } =
    dead === undefined
      ? await db.query<{ b: string | null }>('select pgq_coop.next_batch($1, $2, $3) as b', [
          queue,
          consumer,
          sub,
        ])
      : await db.query<{ b: string | null }>(
          'select pgq_coop.next_batch($1, $2, $3, $4::interval) as b',
          [queue, consumer, sub, dead],
        );
  return toId(rows[0]?.b);
}

export async function coopFinish(db: Queryable, batchId: number): Promise<number> {
  const { rows } = await db.query<{ r: number }>('select pgq_coop.finish_batch($1) as r', [
    batchId,
  ]);
  return rows[0]?.r as number;
}

export interface SubRow {
  name: string;
  sub_id: number;
  last_tick: number | null;
  next_tick: number | null;
  batch: number | null;
  active: Date;
}

/** Subscription rows of a queue, by consumer name. */
export async function subRows(db: Queryable, queue: string): Promise<Map<string, SubRow>> {
  const { rows } = await db.query<{
    name: string;
    sub_id: number;
    last_tick: string | null;
    next_tick: string | null;
    batch: string | null;
    active: Date;
  }>(
    `select c.co_name as name, s.sub_id, s.sub_last_tick as last_tick,
            s.sub_next_tick as next_tick, s.sub_batch as batch, s.sub_active as active
       from pgq.subscription s
       join pgq.queue q on q.queue_id = s.sub_queue
       join pgq.consumer c on c.co_id = s.sub_consumer
      where q.queue_name = $1`,
    [queue],
  );
  return new Map(
    rows.map((row) => [
      row.name,
      {
        name: row.name,
        sub_id: row.sub_id,
        last_tick: toId(row.last_tick),
        next_tick: toId(row.next_tick),
        batch: toId(row.batch),
        active: row.active,
      },
    ]),
  );
}

export async function subRow(db: Queryable, queue: string, name: string): Promise<SubRow> {
  const row = (await subRows(db, queue)).get(name);
  if (!row) throw new Error(`no subscription ${name} on ${queue}`);
  return row;
}

/** Pretend a subconsumer was last active `ago` (an interval) before now. */
export async function ageSub(db: Queryable, queue: string, name: string, ago: string) {
  await db.query(
    `update pgq.subscription s set sub_active = now() - $3::interval
       from pgq.queue q, pgq.consumer c
      where q.queue_id = s.sub_queue and c.co_id = s.sub_consumer
        and q.queue_name = $1 and c.co_name = $2`,
    [queue, name, ago],
  );
}

/** Insert one event per value and tick after each, so every value is a batch of its own. */
export async function eventPerTick(
  db: Queryable,
  queue: string,
  values: readonly string[],
): Promise<void> {
  for (const value of values) {
    await db.query('select pgq.insert_event($1, $2, $3)', [queue, 'coop', value]);
    await db.query('select pgq.ticker($1)', [queue]);
  }
}
