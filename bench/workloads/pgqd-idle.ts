import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import type { WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { serverCpuReader } from '../lib/server-cpu.js';
import { startTicker } from '../lib/ticker.js';

// What the low-latency tick policy costs when nothing happens: 10 databases with 10 idle
// queues each, one in-process pgqd with its defaults. Measures the CPU of pgqd (this process)
// plus the server, as a share of one core, and the ticks written against what
// ticker_idle_period allows (one per queue per idle period, plus one for a period boundary
// inside the window). No baseline: the target is an absolute budget (under 2%).

const databases = 10;
const queuesPerDatabase = 10;
const idlePeriodSeconds = 60; // upstream's queue default, which ours keeps

async function withClient<T>(config: pg.ClientConfig, work: (c: pg.Client) => Promise<T>) {
  const client = new pg.Client(config);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function tickCount(configs: pg.ClientConfig[]): Promise<number> {
  let total = 0;
  for (const config of configs) {
    total += await withClient(config, async (c) =>
      Number((await c.query<{ n: string }>('select count(*) as n from pgq.tick')).rows[0]?.n),
    );
  }
  return total;
}

export async function pgqdIdle(ctx: BenchContext): Promise<WorkloadResult> {
  const seconds = ctx.quick ? 20 : 60;
  const names = Array.from({ length: databases }, (_, i) => `skytools_bench_idle_${i}`);
  const admin = await ctx.connect();
  const configs = names.map((database) => ({ ...ctx.config, database }));
  try {
    for (const name of names) {
      await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
      await admin.query(`create database ${quoteIdent(name)}`);
    }
    for (const config of configs) {
      await withClient(config, async (c) => {
        await installSchemas(c, ['pgq']);
        await c.query(
          `select pgq.create_queue('idle_' || i) from generate_series(1, ${queuesPerDatabase}) i`,
        );
        // Make the queues look long idle, so the window shows the steady state and not the
        // first minutes of a new queue, whose idle ticks start max_lag/2 apart and double:
        // a second tick now, the first one two idle periods back.
        await c.query('select pgq.ticker(queue_name) from pgq.queue');
        await c.query(
          `update pgq.tick t set tick_time = t.tick_time - make_interval(secs => $1)
            where t.tick_id = (select min(o.tick_id) from pgq.tick o where o.tick_queue = t.tick_queue)`,
          [2 * idlePeriodSeconds],
        );
      });
    }
    const readServerCpu = await serverCpuReader(admin);
    // The server's own background work (autovacuum launcher, writers) with no pgqd running,
    // to tell apart what pgqd causes.
    const idleSeconds = ctx.quick ? 5 : 15;
    const idleBefore = readServerCpu?.() ?? 0;
    await sleep(idleSeconds * 1000);
    const serverIdle = readServerCpu ? (readServerCpu() - idleBefore) / idleSeconds : Number.NaN;
    // The daemon manages exactly these databases: the first name is the connection's own,
    // the rest come through database_list.
    const ticker = startTicker(configs[0] as pg.ClientConfig, { databaseList: names });
    // Let it connect and make the first round of ticks before measuring.
    await sleep(3000);
    const ticksBefore = await tickCount(configs);
    const serverBefore = readServerCpu?.() ?? 0;
    const selfBefore = process.cpuUsage();
    ctx.log(`  measuring ${seconds} s of ${databases * queuesPerDatabase} idle queues`);
    await sleep(seconds * 1000);
    const self = process.cpuUsage(selfBefore);
    const serverSeconds = readServerCpu ? readServerCpu() - serverBefore : Number.NaN;
    const ticks = (await tickCount(configs)) - ticksBefore;
    await ticker.stop();
    const daemonSeconds = (self.user + self.system) / 1e6;
    const percent = (cpu: number) => Math.round((cpu / seconds) * 10000) / 100;
    const allowed = databases * queuesPerDatabase * (Math.floor(seconds / idlePeriodSeconds) + 1);
    return {
      value: percent(daemonSeconds + (readServerCpu ? serverSeconds : 0)),
      unit: '% of one core (pgqd + server)',
      pgqd_cpu_percent: percent(daemonSeconds),
      server_cpu_percent: readServerCpu ? percent(serverSeconds) : 'n/a (server not local)',
      server_without_pgqd_cpu_percent: readServerCpu
        ? Math.round(serverIdle * 10000) / 100
        : 'n/a (server not local)',
      ticks_written: ticks,
      ticks_allowed: allowed,
      queues: databases * queuesPerDatabase,
      databases,
      seconds,
    };
  } finally {
    for (const name of names) {
      await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
    }
    await admin.end();
  }
}
