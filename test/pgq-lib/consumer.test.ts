import { describe, expect, it } from 'vitest';
import { Consumer } from '../../src/pgq/consumer.js';
import type { ConsumerOptions } from '../../src/pgq/consumer-options.js';
import type { Event } from '../../src/pgq/event.js';
import { insertEvent } from '../../src/pgq/producer.js';
import { useTestDatabase } from '../harness/database.js';
import { consumeAllSql, makeQueue, memoryLogger, register, tick, waitFor } from './helpers.js';

const db = useTestDatabase();

function consumerFor(queue: string, name: string, extra: Partial<ConsumerOptions> = {}) {
  return new Consumer({
    connection: db.config(),
    queue,
    consumer: name,
    loopDelay: 0.05,
    reconnectDelay: 0.05,
    ...extra,
  });
}

async function produce(queue: string, count: number, from = 0): Promise<void> {
  await db.query(
    `select pgq.insert_event($1, 'n', i::text) from generate_series($2::int, $3::int) i`,
    [queue, from, from + count - 1],
  );
}

/** Run the consumer until `until` says stop; returns what the handler saw. */
async function runUntil(
  consumer: Consumer,
  handler: (event: Event) => unknown,
  until: () => boolean | Promise<boolean>,
  concurrency = 1,
): Promise<void> {
  const stop = new AbortController();
  const running = consumer.run(
    async (event, ctx) => {
      await handler(event);
      void ctx;
    },
    { signal: stop.signal, concurrency },
  );
  const failed = running.then(
    () => true,
    () => true,
  );
  await waitFor(
    async () => (await until()) || (await Promise.race([failed, false])),
    'the consumer',
  );
  stop.abort();
  await running;
}

describe('Consumer.run', () => {
  it('hands every event to the handler in order and finishes the batches', async () => {
    await makeQueue(db, 'q1');
    await register(db, 'q1', 'c');
    await produce('q1', 30);
    await tick(db, 'q1');
    await produce('q1', 20, 30);
    await tick(db, 'q1');
    const seen: Event[] = [];
    await runUntil(
      consumerFor('q1', 'c'),
      (e) => seen.push(e),
      () => seen.length >= 50,
    );
    expect(seen.map((e) => Number(e.data))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(seen[0]).toMatchObject({ type: 'n', retryCount: null, extra1: null });
    expect(seen[0]?.time).toBeInstanceOf(Date);
    expect(seen[0]?.id).toMatch(/^\d+$/);
    // Acknowledged: nothing is left for the consumer.
    await tick(db, 'q1');
    expect(await consumeAllSql(db, 'q1', 'c')).toEqual([]);
  });

  it('runs handlers concurrently within a batch, never more than asked', async () => {
    await makeQueue(db, 'conc');
    await register(db, 'conc', 'c');
    await produce('conc', 40);
    await tick(db, 'conc');
    let inFlight = 0;
    let most = 0;
    let done = 0;
    await runUntil(
      consumerFor('conc', 'c'),
      async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        done++;
      },
      () => done >= 40,
      4,
    );
    expect(done).toBe(40);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(4);
  });

  it('sends an event whose handler throws to retry; it comes back after maint_retry_events', async () => {
    await makeQueue(db, 'retry');
    await register(db, 'retry', 'c');
    await produce('retry', 3);
    await tick(db, 'retry');
    const seen: [string, number | null][] = [];
    let failedOnce = false;
    const consumer = consumerFor('retry', 'c', { retryDelay: 0 });
    await runUntil(
      consumer,
      (e) => {
        seen.push([e.data as string, e.retryCount]);
        if (e.data === '1' && !failedOnce) {
          failedOnce = true;
          throw new Error('not now');
        }
      },
      () => seen.length >= 3,
    );
    const queued = await db.query('select ev_id, ev_retry from pgq.retry_queue');
    expect(queued.rows).toEqual([{ ev_id: expect.any(String), ev_retry: 1 }]);
    await db.query('select pgq.maint_retry_events()');
    await tick(db, 'retry');
    await runUntil(
      consumerFor('retry', 'c'),
      (e) => seen.push([e.data as string, e.retryCount]),
      () => seen.length >= 4,
    );
    expect(seen).toEqual([
      ['0', null],
      ['1', null],
      ['2', null],
      ['1', 1],
    ]);
  });

  it('dead-letters an event past maxRetries', async () => {
    await makeQueue(db, 'dl');
    await makeQueue(db, 'dl_dead');
    await register(db, 'dl', 'c');
    await register(db, 'dl_dead', 'c');
    await insertEvent(db, 'dl', { type: 'bad', data: { x: 1 }, extra2: 'e2' });
    await tick(db, 'dl');
    const consumer = consumerFor('dl', 'c', { maxRetries: 0, deadLetterQueue: 'dl_dead' });
    let calls = 0;
    await runUntil(
      consumer,
      () => {
        calls++;
        throw new Error('always');
      },
      async () => calls >= 1 && (await db.query('select 1 from pgq.retry_queue')).rowCount === 0,
    );
    expect((await db.query('select * from pgq.retry_queue')).rowCount).toBe(0);
    await tick(db, 'dl_dead');
    const dead = await consumeAllSql(db, 'dl_dead', 'c');
    expect(dead.map((e) => [e.ev_type, e.ev_data, e.ev_extra2])).toEqual([
      ['bad', '{"x":1}', 'e2'],
    ]);
  });

  it('stops with an error naming the event past maxRetries, leaving the batch open', async () => {
    await makeQueue(db, 'mr');
    await register(db, 'mr', 'c');
    await produce('mr', 2);
    await tick(db, 'mr');
    const consumer = consumerFor('mr', 'c', { maxRetries: 0 });
    const handled: string[] = [];
    const failure = await consumer
      .run((e) => {
        handled.push(e.data as string);
        if (e.data === '1') throw new Error('broken payload');
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: 'MAX_RETRIES',
      context: { queue: 'mr', consumer: 'c', event: expect.any(String), batch: expect.any(Number) },
    });
    expect((failure as Error).message).toMatch(
      /^event \d+ of batch \d+ failed after 0 retries \(max 0\): broken payload$/,
    );
    // Nothing acknowledged: the same two events come again.
    const again = await consumeAllSql(db, 'mr', 'c');
    expect(again.map((e) => e.ev_data)).toEqual(['0', '1']);
  });

  it('leaves the batch unfinished on stopNow; it is delivered again whole', async () => {
    await makeQueue(db, 'now');
    await register(db, 'now', 'c');
    await produce('now', 10);
    await tick(db, 'now');
    const stopNow = new AbortController();
    const seen: string[] = [];
    await consumerFor('now', 'c').run(
      (e) => {
        seen.push(e.data as string);
        if (seen.length === 4) stopNow.abort();
      },
      { stopNow: stopNow.signal },
    );
    expect(seen).toEqual(['0', '1', '2', '3']);
    const again = await consumeAllSql(db, 'now', 'c');
    expect(again.map((e) => e.ev_data)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });
});

describe('Consumer as an async iterator', () => {
  it('yields batches; each is finished when the next is asked for', async () => {
    await makeQueue(db, 'it');
    await register(db, 'it', 'c');
    await produce('it', 5);
    await tick(db, 'it');
    await produce('it', 5, 5);
    await tick(db, 'it');
    const consumer = consumerFor('it', 'c');
    const batches: string[][] = [];
    for await (const batch of consumer) {
      const data: string[] = [];
      for await (const event of batch) data.push(event.data as string);
      batches.push(data);
      if (batches.length === 2) {
        await batch.finish();
        break;
      }
    }
    expect(batches).toEqual([
      ['0', '1', '2', '3', '4'],
      ['5', '6', '7', '8', '9'],
    ]);
    await tick(db, 'it');
    expect(await consumeAllSql(db, 'it', 'c')).toEqual([]);
  });

  it('retries one event with event.retry() and acknowledges the rest', async () => {
    await makeQueue(db, 'itr');
    await register(db, 'itr', 'c');
    await produce('itr', 3);
    await tick(db, 'itr');
    const stop = new AbortController();
    for await (const batch of consumerFor('itr', 'c', { signal: stop.signal })) {
      for await (const event of batch) if (event.data === '2') event.retry(0);
      await batch.finish();
      stop.abort();
    }
    const queued = await db.query('select ev_data, ev_retry from pgq.retry_queue');
    expect(queued.rows).toEqual([{ ev_data: '2', ev_retry: 1 }]);
    await db.query('select pgq.maint_retry_events()');
    await tick(db, 'itr');
    const back = await consumeAllSql(db, 'itr', 'c');
    expect(back.map((e) => [e.ev_data, e.ev_retry])).toEqual([['2', 1]]);
  });

  it('refuses to finish a batch not read to its end, and leaves it for redelivery', async () => {
    await makeQueue(db, 'half');
    await register(db, 'half', 'c');
    await produce('half', 3);
    await tick(db, 'half');
    const consumer = consumerFor('half', 'c');
    const failure = await (async () => {
      for await (const batch of consumer) {
        void batch; // not read
      }
    })().catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: 'BATCH_NOT_READ',
      context: { queue: 'half', consumer: 'c' },
    });
    expect((await consumeAllSql(db, 'half', 'c')).map((e) => e.ev_data)).toEqual(['0', '1', '2']);
  });

  it('streams a batch larger than batchMaxEvents in bounded blocks', async () => {
    await makeQueue(db, 'big');
    await register(db, 'big', 'c');
    await produce('big', 1050);
    await tick(db, 'big');
    const sizes: number[] = [];
    const data: number[] = [];
    const stop = new AbortController();
    for await (const batch of consumerFor('big', 'c', {
      batchMaxEvents: 100,
      signal: stop.signal,
    })) {
      for await (const block of batch.blocks()) {
        sizes.push(block.length);
        for (const event of block) data.push(Number(event.data));
      }
      await batch.finish();
      stop.abort();
    }
    expect(data).toEqual(Array.from({ length: 1050 }, (_, i) => i));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.length).toBeGreaterThanOrEqual(11);
  });

  it('bounds blocks by batchMaxBytes from the size of the events seen', async () => {
    await makeQueue(db, 'bytes');
    await register(db, 'bytes', 'c');
    await db.query(
      `select pgq.insert_event('bytes', 'n', repeat('x', 10000)) from generate_series(1, 300)`,
    );
    await tick(db, 'bytes');
    const sizes: number[] = [];
    const stop = new AbortController();
    const consumer = consumerFor('bytes', 'c', { batchMaxBytes: 200_000, signal: stop.signal });
    for await (const batch of consumer) {
      for await (const block of batch.blocks()) sizes.push(block.length);
      await batch.finish();
      stop.abort();
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(300);
    // The first read takes one event to learn the size; then blocks hold about 200 kB: 19
    // events of 10 kB.
    expect(sizes[0]).toBe(1);
    expect(Math.max(...sizes.slice(1))).toBeLessThanOrEqual(20);
    expect(Math.max(...sizes.slice(1))).toBeGreaterThan(1);
  });

  it('filters by table (ev_extra1) and still acknowledges the rest', async () => {
    await makeQueue(db, 'filt');
    await register(db, 'filt', 'c');
    for (const table of ['public.a', 'public.b', "o'dd", 'public.a']) {
      await insertEvent(db, 'filt', { type: 'I', data: table, extra1: table });
    }
    await tick(db, 'filt');
    const seen: string[] = [];
    const stop = new AbortController();
    for await (const batch of consumerFor('filt', 'c', {
      tableFilter: ['public.a', "o'dd"],
      signal: stop.signal,
    })) {
      for await (const event of batch) seen.push(event.extra1 as string);
      await batch.finish();
      stop.abort();
    }
    expect(seen).toEqual(['public.a', "o'dd", 'public.a']);
    expect(await consumeAllSql(db, 'filt', 'c')).toEqual([]);
  });
});

describe('wake-up', () => {
  it('wakes on NOTIFY pgq_tick for its queue only, with polling far away', async () => {
    await makeQueue(db, 'wake');
    await register(db, 'wake', 'c');
    const log = memoryLogger();
    const seen: string[] = [];
    const stop = new AbortController();
    const consumer = consumerFor('wake', 'c', { loopDelay: 3600, logger: log });
    const running = consumer.run((e) => void seen.push(e.data as string), { signal: stop.signal });
    await waitFor(
      async () =>
        (
          await db.query(
            `select 1 from pg_stat_activity where query like '%next_batch_custom%' and state = 'idle'`,
          )
        ).rowCount === 1,
      'the consumer to listen',
    );
    // Let the consumer settle into its wait (it may look once more right after LISTEN), then
    // make the event and notify another queue: that must not make it read.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await produce('wake', 1);
    await tick(db, 'wake');
    await db.query(`select pg_notify('pgq_tick', 'other queue')`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen).toEqual([]);
    await db.query(`select pg_notify('pgq_tick', 'wake')`);
    await waitFor(async () => seen.length === 1, 'the notified consumer');
    stop.abort();
    await running;
    expect(log.lines.filter((l) => l.msg.includes('polling'))).toEqual([]);
  });

  it('polls every loopDelay when not listening, and says so once', async () => {
    await makeQueue(db, 'poll');
    await register(db, 'poll', 'c');
    const log = memoryLogger();
    const seen: string[] = [];
    const consumer = consumerFor('poll', 'c', { listen: false, logger: log });
    await runUntil(
      consumer,
      (e) => void seen.push(e.data as string),
      async () => {
        if (seen.length === 0) {
          await produce('poll', 1, seen.length);
          await tick(db, 'poll');
        }
        return seen.length >= 1;
      },
    );
    expect(log.lines.filter((l) => l.msg.includes('polling'))).toEqual([
      {
        level: 'info',
        msg: 'no tick notifications: polling every 0.05 s',
        obj: { loopDelay: 0.05 },
      },
    ]);
  });
});

describe('one process per consumer name', () => {
  it('refuses a second consumer with the same name while the first runs', async () => {
    await makeQueue(db, 'lock');
    await register(db, 'lock', 'same');
    await register(db, 'lock', 'other');
    const stop = new AbortController();
    const first = consumerFor('lock', 'same').run(() => {}, { signal: stop.signal });
    await waitFor(
      async () =>
        (
          await db.query(
            `select 1 from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`,
          )
        ).rowCount === 1,
      'the first consumer to lock',
    );
    const second = await consumerFor('lock', 'same')
      .run(() => {})
      .catch((error: unknown) => error);
    expect(second).toMatchObject({
      code: 'CONSUMER_LOCKED',
      context: { queue: 'lock', consumer: 'same', pid: expect.any(Number) },
    });
    expect((second as Error).message).toMatch(
      /^consumer "same" on queue "lock" is already running in another process \(backend pid \d+\); only one may run at a time$/,
    );
    // Another name on the same queue is not affected.
    const otherStop = new AbortController();
    const other = consumerFor('lock', 'other').run(() => {}, { signal: otherStop.signal });
    otherStop.abort();
    await other;
    stop.abort();
    await first;
    // After the first stops, the name is free again.
    const again = new AbortController();
    const third = consumerFor('lock', 'same').run(() => {}, { signal: again.signal });
    again.abort();
    await third;
  });
});

describe('pooler mode', () => {
  it('takes no lock and does not listen, and says both at start', async () => {
    await makeQueue(db, 'pooled');
    await register(db, 'pooled', 'c');
    const log = memoryLogger();
    const seen: string[] = [];
    await runUntil(
      consumerFor('pooled', 'c', { poolerMode: true, logger: log }),
      (e) => void seen.push(e.data as string),
      async () => {
        if (seen.length === 0) {
          await produce('pooled', 1);
          await tick(db, 'pooled');
        }
        return seen.length > 0;
      },
    );
    expect(log.lines.filter((l) => l.level !== 'debug').map((l) => [l.level, l.msg])).toEqual([
      [
        'warn',
        'pooler mode: no advisory lock (a second process with this consumer name is not refused) and no LISTEN',
      ],
      ['info', 'no tick notifications: polling every 0.05 s'],
    ]);
  });
});

describe('bad input', () => {
  it('names an unknown queue and an unregistered consumer', async () => {
    await makeQueue(db, 'known');
    await expect(consumerFor('no such queue', 'c').run(() => {})).rejects.toMatchObject({
      code: 'QUEUE_NOT_FOUND',
      message: 'queue "no such queue" does not exist',
      context: { queue: 'no such queue', consumer: 'c' },
    });
    await expect(consumerFor('known', 'stranger').run(() => {})).rejects.toMatchObject({
      code: 'CONSUMER_NOT_REGISTERED',
      message:
        'consumer "stranger" is not registered on queue "known"; register it first (consumer.register() or pgq.register_consumer)',
    });
  });

  it('names the server it cannot reach at start', async () => {
    const consumer = new Consumer({
      connection: `host=${db.cluster.host} port=1 dbname=${db.name} user=${db.cluster.user}`,
      queue: 'known',
      consumer: 'c',
    });
    await expect(consumer.run(() => {})).rejects.toMatchObject({
      code: 'CONNECT_FAILED',
      message: expect.stringMatching(/^cannot connect to .*:1/),
    });
  });

  it('checks options at construction', () => {
    const bad: [Partial<ConsumerOptions>, string][] = [
      [{ batchMaxEvents: 0 }, 'option batchMaxEvents must be a number >= 1, got 0'],
      [{ batchMaxEvents: 1.5 }, 'option batchMaxEvents must be an integer'],
      [{ loopDelay: -1 }, 'option loopDelay must be a number >= 0.001, got -1'],
      [{ deadLetterQueue: 'x' }, 'option deadLetterQueue needs maxRetries'],
      [{ tableFilter: [] }, 'option tableFilter must not be empty'],
      [{ queue: undefined as unknown as string }, 'option queue must be a string'],
    ];
    for (const [options, message] of bad) {
      expect(() => consumerFor('q', 'c', options)).toThrow(message);
    }
  });

  it('registers and unregisters through the consumer object', async () => {
    await makeQueue(db, 'reg');
    const consumer = consumerFor('reg', 'new one');
    expect(await consumer.register()).toBe(true);
    expect(await consumer.register()).toBe(false);
    expect(await consumer.unregister()).toBe(1);
    expect(await consumer.unregister()).toBe(0);
  });
});

describe('connection loss', () => {
  it('reconnects after its backend is terminated and goes on consuming', async () => {
    await makeQueue(db, 'recon');
    await register(db, 'recon', 'c');
    const log = memoryLogger();
    const seen: string[] = [];
    const consumer = consumerFor('recon', 'c', { logger: log, applicationName: 'recon-consumer' });
    let killed = false;
    await runUntil(
      consumer,
      (e) => void seen.push(e.data as string),
      async () => {
        if (!killed) {
          const { rowCount } = await db.query(
            `select pg_terminate_backend(pid) from pg_stat_activity
              where application_name = 'recon-consumer' and state = 'idle' and query like '%next_batch_custom%'`,
          );
          killed = rowCount === 1;
          if (killed) {
            await produce('recon', 3);
            await tick(db, 'recon');
          }
        }
        return seen.length >= 3;
      },
    );
    expect(seen).toEqual(['0', '1', '2']);
    expect(log.lines.some((l) => l.msg === 'reconnected')).toBe(true);
  });
});

describe('names and delays', () => {
  it('works with hostile queue and consumer names', async () => {
    const queue = `q "quo'te" ünï.名前 %s`;
    const name = `c'; drop table victim; --`;
    await db.query('create table victim (x int)');
    await makeQueue(db, queue);
    await register(db, queue, name);
    await insertEvent(db, queue, { type: 't', data: 'x', extra1: "o'dd" });
    await tick(db, queue);
    const seen: string[] = [];
    await runUntil(
      consumerFor(queue, name, { tableFilter: ["o'dd"] }),
      (e) => void seen.push(e.extra1 as string),
      () => seen.length === 1,
    );
    expect(seen).toEqual(["o'dd"]);
    expect((await db.query('select count(*)::int as n from victim')).rows[0]?.n).toBe(0);
  });

  it('retries a failed event after retryDelay seconds (default 60)', async () => {
    await makeQueue(db, 'delay');
    await register(db, 'delay', 'c');
    await produce('delay', 1);
    await tick(db, 'delay');
    let calls = 0;
    await runUntil(
      consumerFor('delay', 'c'),
      () => {
        calls++;
        throw new Error('later');
      },
      async () => (await db.query('select 1 from pgq.retry_queue')).rowCount === 1,
    );
    const { rows } = await db.query(
      `select extract(epoch from ev_retry_after - now())::int as seconds from pgq.retry_queue`,
    );
    expect(rows[0]?.seconds).toBeGreaterThan(50);
    expect(rows[0]?.seconds).toBeLessThanOrEqual(60);
    expect(calls).toBe(1);
  });

  it('stops with a clear error when unregistered while running', async () => {
    await makeQueue(db, 'gone');
    await register(db, 'gone', 'c');
    const running = consumerFor('gone', 'c').run(() => {});
    await waitFor(
      async () =>
        (
          await db.query(
            `select 1 from pg_locks where locktype = 'advisory' and granted and database = (select oid from pg_database where datname = current_database())`,
          )
        ).rowCount === 1,
      'the consumer to start',
    );
    await db.query(`select pgq.unregister_consumer('gone', 'c')`);
    await expect(running).rejects.toMatchObject({
      code: 'PGQ_ERROR',
      message:
        'reading the next batch for consumer "c" on queue "gone": Not subscriber to queue: gone/c',
      context: { queue: 'gone', consumer: 'c' },
    });
  });
});

describe('empty batches', () => {
  it('finishes a batch without events even when the loop does not look into it', async () => {
    await makeQueue(db, 'idle');
    await register(db, 'idle', 'c');
    await tick(db, 'idle');
    await tick(db, 'idle');
    const ids: number[] = [];
    const stop = new AbortController();
    for await (const batch of consumerFor('idle', 'c', { signal: stop.signal })) {
      ids.push(batch.id);
      expect(batch.fullyRead).toBe(true);
      if (ids.length === 2) {
        await batch.finish();
        stop.abort();
      }
    }
    expect(ids).toHaveLength(2);
    expect(await consumeAllSql(db, 'idle', 'c')).toEqual([]);
  });
});
