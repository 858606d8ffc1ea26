/**
 * SerialConsumer: tick tracking in the target (pgq_ext.get/set_last_tick): crash between the
 * target commit and the finish, lost position on a tick mismatch, rewind and reset.
 */
import { describe, expect, it } from 'vitest';
import { SerialConsumer } from '../../src/pgq/serial-consumer.js';
import { useTestDatabase } from '../harness/database.js';
import { consumeSql } from './helpers.js';
import {
  addEvents,
  expectExactlyOnce,
  killAfterCommit,
  killRepeatedly,
  makeTarget,
  runUntilApplied,
  streamQueue,
  type Target,
} from './target-helpers.js';

const db = useTestDatabase();

function serial(target: Target, queue: string, extra: Record<string, unknown> = {}) {
  return new SerialConsumer({
    connection: db.config(),
    target: target.config,
    queue,
    consumer: 'serial',
    loopDelay: 0.02,
    ...extra,
  });
}

const apply = async (
  event: { id: string },
  ctx: { batch: { id: number }; target: { query: (t: string, v: unknown[]) => unknown } },
) => {
  await ctx.target.query('insert into applied (ev_id, batch_id) values ($1, $2)', [
    event.id,
    ctx.batch.id,
  ]);
};

const runUntil = (consumer: SerialConsumer, target: Target, count: number) =>
  runUntilApplied(consumer, apply, target, count);

async function sourceTick(queue: string): Promise<number> {
  const { rows } = await db.query<{ t: string }>(
    `select s.sub_last_tick::text as t from pgq.subscription s
       join pgq.consumer c on c.co_id = s.sub_consumer join pgq.queue q on q.queue_id = s.sub_queue
      where c.co_name = 'serial' and q.queue_name = $1`,
    [queue],
  );
  return Number(rows[0]?.t);
}

describe('SerialConsumer', () => {
  it('keeps the last applied tick in the target', async () => {
    const target = await makeTarget(db, 's_plain');
    await streamQueue(db, 's_plain', 'serial', 3, 10);
    const consumer = serial(target, 's_plain');
    await runUntil(consumer, target, 30);
    await expectExactlyOnce(db, target, 's_plain');
    expect(await consumer.targetTick()).toBe(await sourceTick('s_plain'));
  });

  it('killed between the target commit and the finish: the batch is skipped on restart', async () => {
    const target = await makeTarget(db, 's_crash');
    await streamQueue(db, 's_crash', 'serial', 3, 10);
    await killAfterCommit(db, target, 's_crash', 'serial', 'serial');
    await runUntil(serial(target, 's_crash'), target, 30);
    await expectExactlyOnce(db, target, 's_crash');
  });

  it('a stream with kills: every event applied exactly once', async () => {
    const target = await makeTarget(db, 's_kills');
    await streamQueue(db, 's_kills', 'serial', 10, 100);
    await killRepeatedly(db, target, 's_kills', 'serial', 'serial', 4);
    await runUntil(serial(target, 's_kills'), target, 1000);
    await expectExactlyOnce(db, target, 's_kills');
  });

  it('lost position on a tick mismatch; rewind replays from the target tick', async () => {
    const target = await makeTarget(db, 's_lost');
    await streamQueue(db, 's_lost', 'serial', 2, 5);
    const consumer = serial(target, 's_lost');
    await runUntil(consumer, target, 10);
    // The queue consumer moves on behind the target's back.
    await addEvents(db, 's_lost', 2, 5);
    expect(await consumeSql(db, 's_lost', 'serial')).toHaveLength(5);
    const lost = await serial(target, 's_lost')
      .run(apply)
      .catch((e) => e);
    expect(lost.code).toBe('LOST_POSITION');
    expect(lost.message).toMatch(/^Lost position: the target database is at tick \d+/);
    expect(lost.context.targetTick).toBe(await consumer.targetTick());

    expect(await consumer.rewind()).toBe(await consumer.targetTick());
    await runUntil(serial(target, 's_lost'), target, 20);
    await expectExactlyOnce(db, target, 's_lost');
  });

  it('reset clears the target tracking; register clears it too', async () => {
    const target = await makeTarget(db, 's_reset');
    await streamQueue(db, 's_reset', 'serial', 1, 3);
    const consumer = serial(target, 's_reset');
    await target.query("select pgq_ext.set_last_tick('serial', 999999)");
    const lost = await consumer.run(apply).catch((e) => e);
    expect(lost.code).toBe('LOST_POSITION');
    await consumer.reset();
    expect(await consumer.targetTick()).toBeNull();
    await runUntil(serial(target, 's_reset'), target, 3);
    await expectExactlyOnce(db, target, 's_reset');

    expect(await consumer.targetTick()).not.toBeNull();
    expect(await consumer.register()).toBe(false);
    expect(await consumer.targetTick()).toBeNull();
    const none = await serial(target, 's_reset', { consumer: 'fresh' })
      .rewind()
      .catch((e) => e);
    expect(none.code).toBe('NO_TARGET_TICK');
  });
});
