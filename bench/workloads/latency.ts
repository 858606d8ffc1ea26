import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { Consumer } from '../../src/pgq/consumer.js';
import type { WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { createQueue, payload } from '../lib/fixtures.js';
import { quantile } from '../lib/stats.js';
import { startTicker } from '../lib/ticker.js';

// Commit-to-handler latency under pgqd's default settings (ticker_min_interval 10 ms) and a
// consumer woken by NOTIFY pgq_tick: the producer notes when COMMIT has returned, the handler
// when it is called with the event. Both clocks are this process's. At 200 events/s the queue
// is busy and pgqd polls it every 10 ms; at 20 events/s it is quiet between events and the
// producers' NOTIFY pgq_wakeup wakes pgqd.

const consumerName = 'bench_latency_reader';
/** Events before the measured ones, so the consumer is connected and the plans are warm. */
const warmupSeconds = 1.5;

const insert: pg.QueryConfig = {
  name: 'bench-latency-insert',
  text: "select pgq.insert_event($1, 'order.created', $2) as id",
};

/** One event per autocommit transaction at `rate` per second; the commit time of each id. */
async function produce(
  client: pg.Client,
  queue: string,
  rate: number,
  total: number,
): Promise<Map<string, number>> {
  const committed = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const { rows } = await client.query<{ id: string }>({ ...insert, values: [queue, payload(i)] });
    committed.set(rows[0]?.id ?? '', performance.now());
  }
  return committed;
}

export async function latency(ctx: BenchContext, rate: number): Promise<WorkloadResult> {
  const queue = `bench_latency_${rate}`;
  // Enough events for a p99: 10 s at 200/s, 30 s at 20/s (quick: 2 s and 10 s).
  const count = ctx.quick ? Math.max(200, rate * 2) : Math.max(600, rate * 10);
  const warmup = Math.ceil(rate * warmupSeconds);
  const total = warmup + count;
  const admin = await ctx.connect();
  const producer = await ctx.connect();
  // When pgqd reported each tick, to split the latency into ticker and consumer parts.
  const tickedAt = new Map<string, number>();
  const ticker = startTicker(ctx.config, {}, (_db, name, tickId) => {
    if (name === queue) tickedAt.set(tickId, performance.now());
  });
  const handled = new Map<string, { at: number; tick: string }>();
  const stop = new AbortController();
  let consuming: Promise<void> | undefined;
  try {
    await createQueue(admin, queue);
    await admin.query('select pgq.register_consumer($1, $2)', [queue, consumerName]);
    const consumer = new Consumer({ connection: ctx.config, queue, consumer: consumerName });
    consuming = consumer.run(
      (event, context) => {
        handled.set(event.id, { at: performance.now(), tick: String(context.batch.info.tickId) });
      },
      { signal: stop.signal },
    );
    consuming.catch(() => {});
    // The consumer LISTENs once connected; the warm-up events cover a late start as well.
    await sleep(200);
    ctx.log(`  ${total} events at ${rate}/s (${warmup} of warm-up)`);
    const committed = await produce(producer, queue, rate, total);
    const deadline = performance.now() + 30_000;
    while (handled.size < total && performance.now() < deadline) await sleep(20);
    if (handled.size < total) {
      throw new Error(`bench latency: ${handled.size} of ${total} events handled within 30 s`);
    }
    const ids = [...committed.keys()].sort((a, b) => Number(a) - Number(b)).slice(warmup);
    const latencies: number[] = [];
    const toTick: number[] = [];
    const toHandler: number[] = [];
    for (const id of ids) {
      const commit = committed.get(id) as number;
      const { at, tick } = handled.get(id) as { at: number; tick: string };
      latencies.push(at - commit);
      const ticked = tickedAt.get(tick);
      if (ticked !== undefined) {
        toTick.push(ticked - commit);
        toHandler.push(at - ticked);
      }
    }
    const ms = (values: number[], q: number) => {
      const sorted = [...values].sort((a, b) => a - b);
      return Math.round(quantile(sorted, q) * 10) / 10;
    };
    const p = (q: number) => ms(latencies, q);
    ctx.log(`  p50 ${p(0.5)} ms, p95 ${p(0.95)} ms, p99 ${p(0.99)} ms, max ${p(1)} ms`);
    const batches = new Set(ids.map((id) => handled.get(id)?.tick)).size;
    return {
      value: p(0.5),
      unit: 'ms',
      p95: p(0.95),
      p99: p(0.99),
      max: p(1),
      events: count,
      events_per_s: rate,
      batches,
      // The two parts: commit to pgqd's tick, and that tick to the handler call.
      commit_to_tick_p50: ms(toTick, 0.5),
      commit_to_tick_p95: ms(toTick, 0.95),
      tick_to_handler_p50: ms(toHandler, 0.5),
      tick_to_handler_p95: ms(toHandler, 0.95),
    };
  } finally {
    stop.abort();
    await consuming?.catch(() => {});
    await ticker.stop();
    await producer.end();
    await admin.end();
  }
}
