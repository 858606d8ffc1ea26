/**
 * RemoteConsumer: exactly-once into another database through pgq_ext batch tracking, with
 * real child processes SIGKILLed between the target commit and the source finish, and mid-stream.
 */
import { describe, expect, it } from 'vitest';
import { RemoteConsumer } from '../../src/pgq/remote-consumer.js';
import { useTestDatabase } from '../harness/database.js';
import { memoryLogger } from './helpers.js';
import {
  expectExactlyOnce,
  killAfterCommit,
  killRepeatedly,
  makeTarget,
  runUntilApplied,
  streamQueue,
  type Target,
} from './target-helpers.js';

const db = useTestDatabase();

function remote(target: Target, queue: string, extra: Record<string, unknown> = {}) {
  return new RemoteConsumer({
    connection: db.config(),
    target: target.config,
    queue,
    consumer: 'copier',
    loopDelay: 0.02,
    ...extra,
  });
}

/** Run until the target holds `count` rows, then stop gracefully. */
function runUntil(consumer: RemoteConsumer, target: Target, count: number): Promise<void> {
  return runUntilApplied(
    consumer,
    async (event, ctx) => {
      await ctx.target.query('insert into applied (ev_id, batch_id, run) values ($1, $2, 99)', [
        event.id,
        ctx.batch.id,
      ]);
    },
    target,
    count,
  );
}

describe('RemoteConsumer', () => {
  it('applies each batch in the target with its batch id recorded there', async () => {
    const target = await makeTarget(db, 'r_plain');
    await streamQueue(db, 'r_plain', 'copier', 3, 10);
    const consumer = remote(target, 'r_plain');
    await runUntil(consumer, target, 30);
    await expectExactlyOnce(db, target, 'r_plain');
    const { rows } = await target.query<{ last_batch_id: string }>(
      "select last_batch_id from pgq_ext.completed_batch where consumer_id = 'copier'",
    );
    const { rows: batches } = await target.query<{ b: string }>(
      'select max(batch_id)::text as b from applied',
    );
    expect(rows.map((r) => r.last_batch_id)).toEqual([batches[0]?.b]);
  });

  it('the iterator form: target work commits with the batch; leaving the loop rolls it back', async () => {
    const target = await makeTarget(db, 'r_iter');
    await streamQueue(db, 'r_iter', 'copier', 2, 4);
    const consumer = remote(target, 'r_iter');
    for await (const batch of consumer) {
      for await (const event of batch) {
        await batch.target.query('insert into applied (ev_id, batch_id) values ($1, $2)', [
          event.id,
          batch.id,
        ]);
      }
      break; // not committed: the batch comes again
    }
    const empty = await target.query<{ n: number }>('select count(*)::int as n from applied');
    expect(empty.rows[0]?.n).toBe(0);
    await runUntil(remote(target, 'r_iter'), target, 8);
    await expectExactlyOnce(db, target, 'r_iter');
  });

  it('killed between the target commit and the finish: the batch is skipped on restart', async () => {
    const target = await makeTarget(db, 'r_crash');
    await streamQueue(db, 'r_crash', 'copier', 3, 10);
    const committed = await killAfterCommit(db, target, 'r_crash', 'copier', 'remote');
    // The source still has that batch open for the consumer.
    const { rows } = await db.query<{ b: string | null }>(
      `select sub_batch::text as b from pgq.subscription s
        join pgq.consumer c on c.co_id = s.sub_consumer join pgq.queue q on q.queue_id = s.sub_queue
       where c.co_name = 'copier' and q.queue_name = 'r_crash'`,
    );
    expect(Number(rows[0]?.b)).toBe(committed);
    const log = memoryLogger();
    await runUntil(remote(target, 'r_crash', { logger: log }), target, 30);
    await expectExactlyOnce(db, target, 'r_crash');
    expect(log.lines.filter((l) => l.msg.includes('already applied'))).toHaveLength(1);
  });

  it('a stream with kills: every event applied exactly once', async () => {
    const target = await makeTarget(db, 'r_kills');
    await streamQueue(db, 'r_kills', 'copier', 12, 100);
    await killRepeatedly(db, target, 'r_kills', 'copier', 'remote', 5);
    await runUntil(remote(target, 'r_kills'), target, 1200);
    await expectExactlyOnce(db, target, 'r_kills');
  });

  it('a handler that throws: target rolled back, run rejects, batch delivered again', async () => {
    const target = await makeTarget(db, 'r_throw');
    await streamQueue(db, 'r_throw', 'copier', 1, 5);
    const failing = remote(target, 'r_throw');
    const error = await failing
      .run(async (event, ctx) => {
        await ctx.target.query('insert into applied (ev_id) values ($1)', [event.id]);
        if (event.data === '3') throw new Error('bad row');
      })
      .catch((e) => e);
    expect(error.code).toBe('HANDLER_FAILED');
    expect(error.message).toMatch(/event \d+ of batch \d+ failed.*rolled back.*bad row/);
    const { rows } = await target.query<{ n: number }>('select count(*)::int as n from applied');
    expect(rows[0]?.n).toBe(0);
    await runUntil(remote(target, 'r_throw'), target, 5);
    await expectExactlyOnce(db, target, 'r_throw');
  });

  it('bad input: clear errors', async () => {
    const target = await makeTarget(db, 'r_bad');
    await streamQueue(db, 'r_bad', 'copier', 1, 1);
    expect(
      () =>
        new RemoteConsumer({
          connection: db.config(),
          queue: 'r_bad',
          consumer: 'copier',
        } as never),
    ).toThrow(/option target is required/);
    expect(() => remote(target, 'r_bad', { transactional: true })).toThrow(/transactional/);
    const bare = await db.createDatabase('r_bare');
    const noExt = await remote({ ...target, config: db.config({ database: bare }) }, 'r_bad')
      .run(() => {})
      .catch((e) => e);
    expect(noExt.code).toBe('PGQ_EXT_MISSING');
    expect(noExt.message).toMatch(/pgq_ext is not installed in the target/);
    const unknown = await remote(target, 'no_such_queue')
      .run(() => {})
      .catch((e) => e);
    expect(unknown.code).toBe('QUEUE_NOT_FOUND');
    const notRegistered = await remote(target, 'r_bad', { consumer: 'nobody' })
      .run(() => {})
      .catch((e) => e);
    expect(notRegistered.code).toBe('CONSUMER_NOT_REGISTERED');
    const retried = await (async () => {
      for await (const batch of remote(target, 'r_bad')) {
        for await (const event of batch) event.retry(0);
      }
    })().catch((e) => e);
    expect(retried.code).toBe('RETRY_UNSUPPORTED');
  });
});
