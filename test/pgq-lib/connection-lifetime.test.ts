/**
 * connectionLifetime: a consumer session older than this is closed and a new one opened
 * between batches (upstream's connection_lifetime), with the lock and LISTEN taken again.
 */
import { describe, expect, it } from 'vitest';
import { Consumer } from '../../src/pgq/consumer.js';
import { useTestDatabase } from '../harness/database.js';
import { makeQueue, register, tick, waitFor } from './helpers.js';

const db = useTestDatabase();

/** The backend holding the consumer's advisory lock, or null. */
async function lockHolder(): Promise<number | null> {
  const { rows } = await db.query<{ pid: number }>(
    `select pid from pg_locks where locktype = 'advisory' and granted
        and database = (select oid from pg_database where datname = current_database())`,
  );
  return rows[0]?.pid ?? null;
}

async function produce(queue: string, data: string): Promise<void> {
  await db.query("select pgq.insert_event($1, 'n', $2)", [queue, data]);
  await tick(db, queue);
}

/** Run a transactional consumer that records the backend pid each event is handled in. */
function start(queue: string, lifetime: number | undefined) {
  const pids = new Map<string, number>();
  const stop = new AbortController();
  const consumer = new Consumer({
    connection: db.config(),
    queue,
    consumer: 'c',
    transactional: true,
    loopDelay: 0.02,
    connectionLifetime: lifetime,
  });
  const running = consumer.run(
    async (event, ctx) => {
      const { rows } = await (ctx.client as NonNullable<typeof ctx.client>).query<{
        pid: number;
      }>('select pg_backend_pid() as pid');
      pids.set(event.data as string, rows[0]?.pid as number);
    },
    { signal: stop.signal },
  );
  return { pids, stop, running };
}

describe('Consumer connectionLifetime', () => {
  it('reopens an old session between batches, also while idle', async () => {
    await makeQueue(db, 'life');
    await register(db, 'life', 'c');
    const { pids, stop, running } = start('life', 0.3);
    await produce('life', 'one');
    await waitFor(async () => pids.has('one'), 'the first event');
    const first = pids.get('one') as number;
    expect(await lockHolder()).toBe(first);
    // Idle past the lifetime: a new session takes the lock.
    await waitFor(async () => {
      const holder = await lockHolder();
      return holder !== null && holder !== first;
    }, 'a new session to hold the lock');
    await produce('life', 'two');
    await waitFor(async () => pids.has('two'), 'the second event');
    expect(pids.get('two')).not.toBe(first);
    stop.abort();
    await running;
    // The replaced sessions were closed, not left behind.
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where application_name = 'skytools consumer c'",
      );
      return rows[0]?.n === 0;
    }, 'the consumer sessions to end');
  });

  it('without it the session is kept', async () => {
    await makeQueue(db, 'keep');
    await register(db, 'keep', 'c');
    const { pids, stop, running } = start('keep', undefined);
    await produce('keep', 'one');
    await waitFor(async () => pids.has('one'), 'the first event');
    await new Promise((resolve) => setTimeout(resolve, 600));
    await produce('keep', 'two');
    await waitFor(async () => pids.has('two'), 'the second event');
    expect(pids.get('two')).toBe(pids.get('one'));
    stop.abort();
    await running;
  });

  it('is validated', () => {
    const make = (connectionLifetime: unknown) => () =>
      new Consumer({
        connection: db.config(),
        queue: 'q',
        consumer: 'c',
        connectionLifetime: connectionLifetime as number,
      });
    expect(make(0)).toThrow('option connectionLifetime must be a number >= 0.001, got 0');
    expect(make('1')).toThrow('option connectionLifetime must be a number >= 0.001, got 1');
    expect(make(Number.NaN)).toThrow(/option connectionLifetime must be a number/);
  });
});
