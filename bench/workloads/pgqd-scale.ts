import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import type { WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { payload } from '../lib/fixtures.js';
import { quantile } from '../lib/stats.js';
import { startTicker } from '../lib/ticker.js';

// One in-process pgqd (defaults) for 20 databases with 5 busy queues each, about 50 events/s
// per queue: does every queue keep ticking on time? Reports the gaps between consecutive ticks
// of the busy queues (p50/p99/max, ms) and how many gaps exceeded ticker_period (1 s), the
// longest a queue with events should wait under the low-latency policy. No baseline.

const databases = 20;
const queuesPerDatabase = 5;
const eventsPerQueuePerSecond = 50;
const roundMs = 100;

async function setUp(admin: pg.Client, configs: pg.ClientConfig[], names: string[]) {
  for (const name of names) {
    await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
    await admin.query(`create database ${quoteIdent(name)}`);
  }
  for (const config of configs) {
    const client = new pg.Client(config);
    await client.connect();
    try {
      await installSchemas(client, ['pgq']);
      await client.query(
        `select pgq.create_queue('busy_' || i) from generate_series(1, ${queuesPerDatabase}) i`,
      );
    } finally {
      await client.end();
    }
  }
}

/** Every `roundMs`, one transaction per database with each queue's share of events. */
async function produce(clients: pg.Client[], signal: AbortSignal): Promise<number> {
  const perRound = Math.round((eventsPerQueuePerSecond * roundMs) / 1000);
  const data = Array.from({ length: perRound }, (_, i) => payload(i));
  let produced = 0;
  const start = performance.now();
  for (let round = 0; !signal.aborted; round++) {
    await Promise.all(
      clients.map(async (client) => {
        await client.query('begin');
        for (let q = 1; q <= queuesPerDatabase; q++) {
          await client.query('select pgq.insert_events($1, null, $2::text[])', [`busy_${q}`, data]);
        }
        await client.query('commit');
      }),
    );
    produced += clients.length * queuesPerDatabase * perRound;
    const wait = start + (round + 1) * roundMs - performance.now();
    if (wait > 0) await sleep(wait);
  }
  return produced;
}

/** Gaps (ms) between consecutive ticks of every queue since `since`. */
async function tickGaps(client: pg.Client, since: Date): Promise<number[]> {
  const { rows } = await client.query<{ gap: number }>(
    `select extract(epoch from tick_time - lag(tick_time) over (partition by tick_queue
                                                                  order by tick_id)) * 1000 as gap
       from pgq.tick where tick_time >= $1`,
    [since],
  );
  return rows.map((row) => Number(row.gap)).filter((gap) => Number.isFinite(gap) && gap > 0);
}

export async function pgqdScale(ctx: BenchContext): Promise<WorkloadResult> {
  const seconds = ctx.quick ? 15 : 60;
  const names = Array.from({ length: databases }, (_, i) => `skytools_bench_scale_${i}`);
  const configs = names.map((database) => ({ ...ctx.config, database }));
  const admin = await ctx.connect();
  const clients: pg.Client[] = [];
  try {
    await setUp(admin, configs, names);
    for (const config of configs) {
      const client = new pg.Client(config);
      await client.connect();
      clients.push(client);
    }
    const ticker = startTicker(configs[0] as pg.ClientConfig, { databaseList: names });
    const producing = new AbortController();
    const production = produce(clients, producing.signal);
    await sleep(3000); // ramp-up: every database connected, every queue busy
    const since = new Date();
    ctx.log(`  measuring ${seconds} s: ${databases} databases x ${queuesPerDatabase} busy queues`);
    await sleep(seconds * 1000);
    producing.abort();
    const produced = await production;
    await ticker.stop();
    const gaps = (await Promise.all(clients.map((client) => tickGaps(client, since))))
      .flat()
      .sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      value: round(quantile(gaps, 0.99)),
      unit: 'ms p99 gap between ticks of a busy queue',
      p50: round(quantile(gaps, 0.5)),
      max: round(gaps.at(-1) ?? Number.NaN),
      gaps_over_1s: gaps.filter((gap) => gap > 1000).length,
      ticks: gaps.length,
      events_per_second: Math.round(produced / (seconds + 3)),
      databases,
      queues: databases * queuesPerDatabase,
      seconds,
    };
  } finally {
    await Promise.all(clients.map((client) => client.end()));
    for (const name of names) {
      await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
    }
    await admin.end();
  }
}
