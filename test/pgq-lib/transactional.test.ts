import { describe, expect, it } from 'vitest';
import { Consumer } from '../../src/pgq/consumer.js';
import { useTestDatabase } from '../harness/database.js';
import { consumeAllSql, makeQueue, register, tick, waitFor } from './helpers.js';

const db = useTestDatabase();

function consumerFor(queue: string) {
  return new Consumer({
    connection: db.config(),
    queue,
    consumer: 'c',
    transactional: true,
    loopDelay: 0.05,
    retryDelay: 0,
  });
}

async function produce(queue: string, count: number): Promise<void> {
  await db.query(`select pgq.insert_event($1, 'n', i::text) from generate_series(0, $2 - 1) i`, [
    queue,
    count,
  ]);
  await tick(db, queue);
}

describe('transactional consumer', () => {
  it('commits the handler work with finish_batch; a failing event alone is undone and retried', async () => {
    await makeQueue(db, 'tx');
    await register(db, 'tx', 'c');
    await db.query('create table applied (data text)');
    await produce('tx', 5);
    const calls: string[] = [];
    const stop = new AbortController();
    const running = consumerFor('tx').run(
      async (event, ctx) => {
        calls.push(event.data as string);
        await ctx.client?.query('insert into applied values ($1)', [event.data]);
        if (event.data === '3' && event.retryCount === null) throw new Error('first delivery');
      },
      { signal: stop.signal },
    );
    await waitFor(
      async () => (await db.query('select 1 from pgq.retry_queue')).rowCount === 1,
      'the retry',
    );
    stop.abort();
    await running;
    // The first pass stopped at the failure and was rolled back; the replay ran every event in
    // a savepoint, so the failing one's insert is gone and the others are there once.
    expect(calls).toEqual(['0', '1', '2', '3', '0', '1', '2', '3', '4']);
    const applied = await db.query('select data from applied order by data');
    expect(applied.rows.map((r) => r.data)).toEqual(['0', '1', '2', '4']);
    await db.query('select pgq.maint_retry_events()');
    await tick(db, 'tx');
    const again = new AbortController();
    const second = consumerFor('tx').run(
      async (event, ctx) => {
        await ctx.client?.query('insert into applied values ($1)', [event.data]);
      },
      { signal: again.signal },
    );
    await waitFor(
      async () => (await db.query('select 1 from applied')).rowCount === 5,
      'the retried event',
    );
    again.abort();
    await second;
    expect(await consumeAllSql(db, 'tx', 'c')).toEqual([]);
  });

  it('iterator form: batch.client work commits with the finish, or not at all on break', async () => {
    await makeQueue(db, 'txit');
    await register(db, 'txit', 'c');
    await db.query('create table applied2 (data text)');
    await produce('txit', 3);
    for await (const batch of consumerFor('txit')) {
      for await (const event of batch) {
        await batch.client?.query('insert into applied2 values ($1)', [event.data]);
      }
      break; // left unfinished: the inserts roll back with it
    }
    expect((await db.query('select * from applied2')).rowCount).toBe(0);
    const stop = new AbortController();
    for await (const batch of new Consumer({
      connection: db.config(),
      queue: 'txit',
      consumer: 'c',
      transactional: true,
      signal: stop.signal,
    })) {
      for await (const event of batch) {
        await batch.client?.query('insert into applied2 values ($1)', [event.data]);
      }
      await batch.finish();
      stop.abort();
    }
    expect((await db.query('select data from applied2 order by 1')).rows).toEqual([
      { data: '0' },
      { data: '1' },
      { data: '2' },
    ]);
    expect(await consumeAllSql(db, 'txit', 'c')).toEqual([]);
  });

  it('a non-transactional consumer gives no client', async () => {
    await makeQueue(db, 'plain');
    await register(db, 'plain', 'c');
    await produce('plain', 1);
    const stop = new AbortController();
    let client: unknown = 'unset';
    for await (const batch of new Consumer({
      connection: db.config(),
      queue: 'plain',
      consumer: 'c',
      signal: stop.signal,
    })) {
      client = batch.client;
      for await (const _ of batch) {
      }
      await batch.finish();
      stop.abort();
    }
    expect(client).toBeUndefined();
  });
});
