/**
 * Making the queue agree with a LocalConsumer's tracking file: the file is the truth (it is
 * written after the work and before the batch is finished), so the queue consumer is moved to
 * the file's tick with pgq.register_consumer_at; with no file yet, the file starts at the
 * queue's position.
 */
import type { Queryable } from '../db/queryable.js';
import { SkytoolsError } from '../errors.js';
import type { TrackingFile } from './tracking-file.js';

export type PositionSync =
  | { action: 'none'; tick: number }
  | { action: 'created'; tick: number }
  | { action: 'repositioned'; from: number; tick: number };

const queueTickSql = 'select last_tick::text as tick from pgq.get_consumer_info($1, $2)';
const moveSql = 'select pgq.register_consumer_at($1, $2, $3)';

/** The subscription's last finished tick (an open batch starts after it). */
export async function queueTick(db: Queryable, queue: string, consumer: string): Promise<number> {
  const { rows } = await db.query<{ tick: string }>(queueTickSql, [queue, consumer]);
  const row = rows[0];
  if (row === undefined) {
    throw new SkytoolsError(
      'CONSUMER_NOT_REGISTERED',
      `consumer ${JSON.stringify(consumer)} is not registered on queue ${JSON.stringify(queue)}; register it first`,
      { queue, consumer },
    );
  }
  return Number(row.tick);
}

/** Move the subscription to `tick` (its open batch, if any, is dropped). */
export async function moveConsumer(
  db: Queryable,
  queue: string,
  consumer: string,
  tick: number,
  file: string,
): Promise<void> {
  try {
    await db.query(moveSql, [queue, consumer, tick]);
  } catch (error) {
    throw new SkytoolsError(
      'LOST_POSITION',
      `cannot move consumer ${JSON.stringify(consumer)} on queue ${JSON.stringify(queue)} to tick ${tick} of ${file}: ${(error as Error).message}`,
      { queue, consumer, file, tick },
      { cause: error },
    );
  }
}

export async function syncPosition(
  db: Queryable,
  queue: string,
  consumer: string,
  tracking: TrackingFile,
): Promise<PositionSync> {
  const fileTick = tracking.read();
  const current = await queueTick(db, queue, consumer);
  if (fileTick === null) {
    tracking.write(current);
    return { action: 'created', tick: current };
  }
  if (fileTick === current) return { action: 'none', tick: current };
  await moveConsumer(db, queue, consumer, fileTick, tracking.file);
  return { action: 'repositioned', from: current, tick: fileTick };
}
