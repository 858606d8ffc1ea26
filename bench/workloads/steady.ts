import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { Consumer } from '../../src/pgq/consumer.js';
import type { WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { createQueue, payload, queueTables } from '../lib/fixtures.js';
import { startTicker } from '../lib/ticker.js';

// Produce and consume at a steady rate for minutes with pgqd ticking and maintaining (short
// rotation), while an idle transaction holds the xmin horizon for the middle third: per-window
// throughput should stay flat, and event tables, which are rotated and truncated rather than
// deleted from, should end with no dead tuples.

const queue = 'bench_steady';
const consumerName = 'bench_steady_reader';
/** Events per producer transaction, and transactions per second: 5000 events/s offered. */
const perTx = 50;
const txPerSecond = 100;

const insertEvents: pg.QueryConfig = {
  name: 'bench-steady-insert',
  text: 'select pgq.insert_events($1, $2::text[], $3::text[])',
};

interface Shape {
  seconds: number;
  window: number;
  rotation: number;
}

/** Transactions at a fixed schedule until `stop`; a late one is sent at once, not skipped. */
async function produce(
  client: pg.Client,
  stop: AbortSignal,
  onCommit: (n: number) => void,
): Promise<void> {
  const types = Array.from({ length: perTx }, () => 'order.created');
  const start = performance.now();
  for (let t = 0; !stop.aborted; t++) {
    const wait = start + (t * 1000) / txPerSecond - performance.now();
    if (wait > 0) await sleep(wait);
    if (stop.aborted) return;
    const datas = Array.from({ length: perTx }, (_, i) => payload(t * perTx + i));
    await client.query({ ...insertEvents, values: [queue, types, datas] });
    onCommit(perTx);
  }
}

/** n_dead_tup of the queue's event tables (summed) and of pgq.tick and pgq.subscription. */
async function deadTuples(
  admin: pg.Client,
  eventTables: readonly string[],
): Promise<{ events: number; tick: number; subscription: number }> {
  await admin.query('select pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ rel: string; dead: string }>(
    `select c.oid::regclass::text as rel, coalesce(pg_stat_get_dead_tuples(c.oid), 0) as dead
       from pg_class c where c.oid = any ($1::regclass[])`,
    [[...eventTables, 'pgq.tick', 'pgq.subscription']],
  );
  const dead = (rel: string) => Number(rows.find((row) => row.rel === rel)?.dead ?? 0);
  const events = rows
    .filter((row) => row.rel !== 'pgq.tick' && row.rel !== 'pgq.subscription')
    .reduce((sum, row) => sum + Number(row.dead), 0);
  return { events, tick: dead('pgq.tick'), subscription: dead('pgq.subscription') };
}

async function lagSeconds(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ lag: number | null }>(
    'select extract(epoch from lag)::float8 as lag from pgq.get_consumer_info($1, $2)',
    [queue, consumerName],
  );
  return Math.round((rows[0]?.lag ?? Number.NaN) * 100) / 100;
}

async function rotations(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ t: Date | null }>(
    'select queue_switch_time as t from pgq.queue where queue_name = $1',
    [queue],
  );
  return rows[0]?.t?.getTime() ?? 0;
}

export async function steady(ctx: BenchContext): Promise<WorkloadResult> {
  const shape: Shape = ctx.quick
    ? { seconds: 45, window: 15, rotation: 10 }
    : { seconds: 180, window: 30, rotation: 20 };
  const admin = await ctx.connect();
  const producer = await ctx.connect();
  const holder = await ctx.connect();
  const stopProducing = new AbortController();
  const stopConsuming = new AbortController();
  let producing: Promise<void> | undefined;
  let consuming: Promise<void> | undefined;
  let ticker: ReturnType<typeof startTicker> | undefined;
  try {
    await createQueue(admin, queue);
    await admin.query('select pgq.set_queue_config($1, $2, $3)', [
      queue,
      'rotation_period',
      `${shape.rotation} seconds`,
    ]);
    await admin.query('select pgq.register_consumer($1, $2)', [queue, consumerName]);
    const eventTables = await queueTables(admin, queue);
    ticker = startTicker(ctx.config, { maintPeriod: 2, retryPeriod: 5 });
    let consumed = 0;
    let produced = 0;
    const consumer = new Consumer({ connection: ctx.config, queue, consumer: consumerName });
    consuming = consumer.run(
      () => {
        consumed++;
      },
      { signal: stopConsuming.signal },
    );
    ctx.log(
      `  ${shape.seconds} s at ${perTx * txPerSecond} events/s offered, rotation every ${shape.rotation} s, xmin held from ${shape.seconds / 3} s to ${(2 * shape.seconds) / 3} s`,
    );
    const start = performance.now();
    producing = produce(producer, stopProducing.signal, (n) => {
      produced += n;
    });
    const result: WorkloadResult = {};
    const consumedRates: number[] = [];
    const switches = new Set<number>([await rotations(admin)]);
    let last = { at: start, consumed: 0, produced: 0 };
    for (let end = shape.window; end <= shape.seconds; end += shape.window) {
      // Rotation is checked once a second so that none is missed within a window.
      while (performance.now() < start + end * 1000) {
        await sleep(Math.min(1000, start + end * 1000 - performance.now()));
        switches.add(await rotations(admin));
      }
      const now = performance.now();
      const seconds = (now - last.at) / 1000;
      const label = `${end - shape.window}_${end}s`;
      const rate = (consumed - last.consumed) / seconds;
      consumedRates.push(rate);
      result[`consumed_${label}`] = Math.round(rate);
      result[`produced_${label}`] = Math.round((produced - last.produced) / seconds);
      result[`lag_${end}s`] = await lagSeconds(admin);
      ctx.log(
        `  ${label}: consumed ${Math.round(rate)}/s, produced ${result[`produced_${label}`]}/s, lag ${result[`lag_${end}s`]} s`,
      );
      last = { at: now, consumed, produced };
      if (end === shape.seconds / 3) {
        await holder.query('begin isolation level repeatable read');
        await holder.query('select txid_current()');
      } else if (end === (2 * shape.seconds) / 3) {
        const held = await deadTuples(admin, eventTables);
        result.dead_event_tables_held = held.events;
        result.dead_tick_held = held.tick;
        result.dead_subscription_held = held.subscription;
        await holder.query('commit');
      }
    }
    const total = (performance.now() - start) / 1000;
    stopProducing.abort();
    await producing;
    stopConsuming.abort();
    await consuming;
    await ticker.stop();
    ticker = undefined;
    // Statistics reach the shared counters a moment after the sessions go idle or end.
    await sleep(1500);
    const dead = await deadTuples(admin, eventTables);
    return {
      value: Math.round(consumed / total),
      unit: 'events/s',
      min: Math.round(Math.min(...consumedRates)),
      max: Math.round(Math.max(...consumedRates)),
      offered: perTx * txPerSecond,
      seconds: shape.seconds,
      rotation_period_s: shape.rotation,
      rotations: switches.size - 1,
      ...result,
      dead_event_tables: dead.events,
      dead_tick: dead.tick,
      dead_subscription: dead.subscription,
    };
  } finally {
    stopProducing.abort();
    stopConsuming.abort();
    await producing?.catch(() => {});
    await consuming?.catch(() => {});
    await ticker?.stop().catch(() => {});
    await holder.query('rollback').catch(() => {});
    await holder.end();
    await producer.end();
    await admin.end();
  }
}
