/**
 * Server restarts while consumers run: they reconnect and resume at their position. Nothing is
 * lost; a batch in hand when the server went away is delivered again: its work in the
 * batch's transaction (`transactional: true`) is done exactly once, a plain handler sees that
 * batch, and only that one, a second time.
 */
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import type { Cluster } from '../../src/pg/index.js';
import { Consumer } from '../../src/pgq/consumer.js';
import { restart, useRestartableClusters } from '../harness/clusters.js';
import { makeQueue, memoryLogger, register, tick, waitFor } from './helpers.js';

const startCluster = useRestartableClusters();
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster();
  await withAdmin((admin) => installSchemas(admin, ['pgq']));
});

async function withAdmin<T>(fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client(cluster.connectionConfig());
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

/** Events `from`..`from + count - 1` (their data is the number), then a tick: one batch. */
async function produce(queue: string, from: number, count: number): Promise<number> {
  return withAdmin(async (admin) => {
    await admin.query(
      `select pgq.insert_event($1, 'n', i::text) from generate_series($2::int, $3::int) i`,
      [queue, from, from + count - 1],
    );
    return tick(admin, queue);
  });
}

/** The consumer has finished its batch up to `tickId` and holds no other. */
async function finishedUpTo(queue: string, consumer: string, tickId: number): Promise<boolean> {
  return withAdmin(async (admin) => {
    const { rows } = await admin.query(
      'select 1 from pgq.get_consumer_info($1, $2) where last_tick = $3 and current_batch is null',
      [queue, consumer, tickId],
    );
    return rows.length === 1;
  });
}

/** A promise opened from outside (Node 20 has no Promise.withResolvers). */
function latch() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

describe('server restart', () => {
  it('the consumer reconnects and every event is handled', async () => {
    await withAdmin(async (admin) => {
      await makeQueue(admin, 'r');
      await register(admin, 'r', 'c');
    });
    await produce('r', 0, 100);
    const seen = new Set<string>();
    const log = memoryLogger();
    const stop = new AbortController();
    const consumer = new Consumer({
      connection: cluster.connectionConfig(),
      queue: 'r',
      consumer: 'c',
      loopDelay: 0.05,
      reconnectDelay: 0.2,
      logger: log,
    });
    const running = consumer.run((event) => void seen.add(event.data as string), {
      signal: stop.signal,
    });
    await waitFor(async () => seen.size === 100, 'the first events');
    await restart(cluster);
    await produce('r', 100, 100);
    await waitFor(async () => seen.size === 200, 'the events after the restart');
    stop.abort();
    await running;
    expect([...seen].map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(log.lines.some((line) => line.msg === 'reconnected')).toBe(true);
  });

  it('with a batch in hand: its transactional work is done once, a plain handler sees it again', async () => {
    const queue = 'b';
    await withAdmin(async (admin) => {
      await makeQueue(admin, queue);
      await register(admin, queue, 'tx');
      await register(admin, queue, 'plain');
      await admin.query('create table applied (ev text)');
    });
    await produce(queue, 0, 10);
    // The batch in hand when the server restarts: both handlers stop inside it, at event 15.
    await produce(queue, 10, 10);

    const gate = latch();
    const inside = { tx: latch(), plain: latch() };
    const txCalls: string[] = [];
    const plainSeen: string[] = [];
    const stop = new AbortController();
    const make = (consumer: string, transactional: boolean) =>
      new Consumer({
        connection: cluster.connectionConfig(),
        queue,
        consumer,
        transactional,
        loopDelay: 0.05,
        reconnectDelay: 0.1,
      });
    const tx = make('tx', true).run(
      async (event, { client }) => {
        const data = event.data as string;
        txCalls.push(data);
        if (data === '15') {
          inside.tx.open();
          await gate.opened;
        }
        await client?.query('insert into applied values ($1)', [data]);
      },
      { signal: stop.signal },
    );
    const plain = make('plain', false).run(
      async (event) => {
        const data = event.data as string;
        if (data === '15') {
          inside.plain.open();
          await gate.opened;
        }
        plainSeen.push(data);
      },
      { signal: stop.signal },
    );
    await Promise.all([inside.tx.opened, inside.plain.opened]);
    await restart(cluster);
    gate.open();
    const last = await produce(queue, 20, 10);
    await waitFor(
      async () =>
        (await finishedUpTo(queue, 'tx', last)) && (await finishedUpTo(queue, 'plain', last)),
      'both consumers to finish every batch',
    );
    stop.abort();
    await Promise.all([tx, plain]);

    const applied = await withAdmin(async (admin) =>
      (await admin.query('select ev from applied')).rows.map((r) => r.ev as string),
    );
    expect(applied.sort((a, b) => Number(a) - Number(b))).toEqual(range(0, 29));
    // The interrupted batch ran twice; its first run's writes were rolled back with it.
    expect(txCalls.filter((data) => data === '10')).toHaveLength(2);

    const counts = new Map<string, number>();
    for (const data of plainSeen) counts.set(data, (counts.get(data) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(range(0, 29));
    const twice = [...counts].filter(([, n]) => n > 1);
    expect(twice.every(([data, n]) => n === 2 && Number(data) >= 10 && Number(data) <= 19)).toBe(
      true,
    );
    // The batch could not be finished before the restart: it came again from its start.
    expect(counts.get('10')).toBe(2);
  });
});
