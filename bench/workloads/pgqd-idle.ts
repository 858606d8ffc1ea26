import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import type { WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { processCpuSeconds, serverCpuReader } from '../lib/server-cpu.js';
import { baseConnstr } from '../lib/ticker.js';

// What ticking costs when nothing happens: 10 databases with 10 idle queues each, our pgqd
// (bin/pgqd.js, its own process, defaults) and, where Debian's C pgqd is installed, that one
// beside it, one after the other with the same INI file. Measures each daemon's own CPU and
// the server's, as a share of one core, and the ticks written against what
// ticker_idle_period allows (one per queue per idle period, plus one for a period boundary
// inside the window). The baseline is the C daemon; the target is at most its CPU.

const databases = 10;
const queuesPerDatabase = 10;
const idlePeriodSeconds = 60; // upstream's queue default, which ours keeps
const upstreamPgqd = '/usr/bin/pgqd';
const ourPgqd = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/pgqd.js');

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

/** Make the queues look long idle again (see below), so each daemon meets the same state. */
async function ageTicks(configs: pg.ClientConfig[]): Promise<void> {
  for (const config of configs) {
    await withClient(config, async (c) => {
      // The steady state, not the first minutes of a new queue (whose idle ticks start
      // max_lag/2 apart and double): a tick now, the one before two idle periods back.
      await c.query('select pgq.ticker(queue_name) from pgq.queue');
      await c.query(
        `update pgq.tick t set tick_time = t.tick_time - make_interval(secs => $1)
          where t.tick_id < (select max(o.tick_id) from pgq.tick o where o.tick_queue = t.tick_queue)`,
        [2 * idlePeriodSeconds],
      );
    });
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGINT');
  });
}

interface DaemonCost {
  cpu: number;
  server: number;
  ticks: number;
}

/** One daemon for `seconds` after a warm-up: its CPU, the server's, the ticks it wrote. */
async function measure(
  ctx: BenchContext,
  command: string[],
  configs: pg.ClientConfig[],
  readServerCpu: (() => number) | null,
  seconds: number,
): Promise<DaemonCost> {
  await ageTicks(configs);
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    // Connect, take the lock, the first round of ticks; Node's start-up is not idle cost.
    await sleep(4000);
    const pid = child.pid;
    const before = pid === undefined ? undefined : processCpuSeconds(pid);
    if (before === undefined) {
      throw new Error(`bench pgqd-idle: ${path.basename(file)} is not running: ${stderr.trim()}`);
    }
    const ticksBefore = await tickCount(configs);
    const serverBefore = readServerCpu?.() ?? 0;
    await sleep(seconds * 1000);
    const after = processCpuSeconds(pid as number);
    if (after === undefined) {
      throw new Error(`bench pgqd-idle: ${path.basename(file)} died: ${stderr.trim()}`);
    }
    const server = readServerCpu ? readServerCpu() - serverBefore : Number.NaN;
    const ticks = (await tickCount(configs)) - ticksBefore;
    ctx.log(`  ${path.basename(file)}: ${(after - before).toFixed(2)} s CPU, ${ticks} ticks`);
    return { cpu: after - before, server, ticks };
  } finally {
    await stopChild(child);
  }
}

export async function pgqdIdle(ctx: BenchContext): Promise<WorkloadResult> {
  const seconds = ctx.quick ? 20 : 60;
  const names = Array.from({ length: databases }, (_, i) => `skytools_bench_idle_${i}`);
  const admin = await ctx.connect();
  const configs = names.map((database) => ({ ...ctx.config, database }));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-bench-idle-'));
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
      });
    }
    // One INI for both daemons: upstream's keys only, defaults otherwise.
    const ini = path.join(dir, 'pgqd.ini');
    const base = baseConnstr(configs[0] as pg.ClientConfig);
    writeFileSync(
      ini,
      `[pgqd]\nlogfile = ${path.join(dir, 'pgqd.log')}\nbase_connstr = ${base}\n` +
        `database_list = ${names.join(', ')}\n`,
    );
    const readServerCpu = await serverCpuReader(admin);
    // The server's own background work (autovacuum launcher, writers) with no pgqd running,
    // to tell apart what pgqd causes.
    const idleSeconds = ctx.quick ? 5 : 15;
    const idleBefore = readServerCpu?.() ?? 0;
    await sleep(idleSeconds * 1000);
    const serverIdle = readServerCpu ? (readServerCpu() - idleBefore) / idleSeconds : Number.NaN;
    ctx.log(`  measuring ${seconds} s of ${databases * queuesPerDatabase} idle queues per daemon`);
    const ours = await measure(
      ctx,
      [process.execPath, ourPgqd, '-q', ini],
      configs,
      readServerCpu,
      seconds,
    );
    const upstream = existsSync(upstreamPgqd)
      ? await measure(ctx, [upstreamPgqd, '-q', ini], configs, readServerCpu, seconds)
      : null;
    const percent = (cpu: number) => Math.round((cpu / seconds) * 10000) / 100;
    const allowed = databases * queuesPerDatabase * (Math.floor(seconds / idlePeriodSeconds) + 1);
    const notLocal = 'n/a (server not local)';
    const notInstalled = `n/a (${upstreamPgqd} not installed)`;
    return {
      value: percent(ours.cpu),
      unit: '% of one core (pgqd process)',
      baseline: upstream ? percent(upstream.cpu) : notInstalled,
      ratio: upstream ? Math.round((ours.cpu / upstream.cpu) * 1000) / 1000 : notInstalled,
      pgqd_cpu_percent: percent(ours.cpu),
      upstream_pgqd_cpu_percent: upstream ? percent(upstream.cpu) : notInstalled,
      server_cpu_percent: readServerCpu ? percent(ours.server) : notLocal,
      upstream_server_cpu_percent:
        readServerCpu && upstream ? percent(upstream.server) : upstream ? notLocal : notInstalled,
      server_without_pgqd_cpu_percent: readServerCpu
        ? Math.round(serverIdle * 10000) / 100
        : notLocal,
      ticks_written: ours.ticks,
      upstream_ticks_written: upstream ? upstream.ticks : notInstalled,
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
    rmSync(dir, { recursive: true, force: true });
  }
}
