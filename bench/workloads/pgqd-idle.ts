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
import { processCpuSeconds } from '../lib/server-cpu.js';
import { baseConnstr } from '../lib/ticker.js';

// What ticking costs when nothing happens: 100 idle queues in 10 databases for our pgqd
// (bin/pgqd.js, its own process, defaults) and, where Debian's C pgqd is installed, 100 more in
// 10 other databases for that one, both running at the same time from INI files that differ
// only in database_list, so the machine's load falls on both alike. After a warm-up that
// covers Node's start (its heap settles about a minute after start), measures each daemon's
// own CPU and the CPU of its server backends, as a share of one core, and the ticks written
// against what ticker_idle_period allows (one per queue per idle period, plus one for a
// period boundary inside the window). The baseline is the C daemon; the goal is at most its
// CPU.

const databases = 10;
const queuesPerDatabase = 10;
const idlePeriodSeconds = 60; // upstream's queue default, which ours keeps
const warmupSeconds = 75;
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

/** Make the queues look long idle, so the window shows the steady state of idle ticks. */
async function ageTicks(configs: pg.ClientConfig[]): Promise<void> {
  for (const config of configs) {
    await withClient(config, async (c) => {
      // Not the first minutes of a new queue (whose idle ticks start max_lag/2 apart and
      // double): a tick now, the one before two idle periods back.
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

interface Daemon {
  name: string;
  child: ChildProcess;
  configs: pg.ClientConfig[];
  names: string[];
  stderr(): string;
}

function spawnDaemon(name: string, command: string[], set: DatabaseSet): Daemon {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { name, child, configs: set.configs, names: set.names, stderr: () => stderr.trim() };
}

/** CPU seconds of the daemon process and of its server backends (one or more per database). */
async function cpuOf(admin: pg.Client, daemon: Daemon): Promise<{ own: number; server: number }> {
  const pid = daemon.child.pid;
  const own = pid === undefined ? undefined : processCpuSeconds(pid);
  if (own === undefined) {
    throw new Error(`bench pgqd-idle: ${daemon.name} is not running: ${daemon.stderr()}`);
  }
  const { rows } = await admin.query<{ pid: number }>(
    'select pid from pg_stat_activity where datname = any($1::text[]) and pid <> pg_backend_pid()',
    [daemon.names],
  );
  let server = 0;
  for (const row of rows) server += processCpuSeconds(row.pid) ?? 0;
  return { own, server };
}

interface DatabaseSet {
  names: string[];
  configs: pg.ClientConfig[];
  ini: string;
}

async function databaseSet(
  admin: pg.Client,
  ctx: BenchContext,
  dir: string,
  prefix: string,
): Promise<DatabaseSet> {
  const names = Array.from({ length: databases }, (_, i) => `skytools_bench_idle_${prefix}${i}`);
  const configs = names.map((database) => ({ ...ctx.config, database }));
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
  await ageTicks(configs);
  // Upstream's keys only, defaults otherwise: the C daemon reads the same file.
  const ini = path.join(dir, `${prefix}.ini`);
  const base = baseConnstr(configs[0] as pg.ClientConfig);
  writeFileSync(
    ini,
    `[pgqd]\nlogfile = ${path.join(dir, `${prefix}.log`)}\nbase_connstr = ${base}\n` +
      `database_list = ${names.join(', ')}\n`,
  );
  return { names, configs, ini };
}

export async function pgqdIdle(ctx: BenchContext): Promise<WorkloadResult> {
  const seconds = ctx.quick ? 20 : 60;
  const admin = await ctx.connect();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-bench-idle-'));
  const sets: DatabaseSet[] = [];
  const daemons: Daemon[] = [];
  try {
    const oursSet = await databaseSet(admin, ctx, dir, 'ours');
    sets.push(oursSet);
    const withUpstream = existsSync(upstreamPgqd);
    const upstreamSet = withUpstream ? await databaseSet(admin, ctx, dir, 'c') : null;
    if (upstreamSet) sets.push(upstreamSet);
    const ours = spawnDaemon(
      'bin/pgqd.js',
      [process.execPath, ourPgqd, '-q', oursSet.ini],
      oursSet,
    );
    daemons.push(ours);
    const upstream = upstreamSet
      ? spawnDaemon(upstreamPgqd, [upstreamPgqd, '-q', upstreamSet.ini], upstreamSet)
      : null;
    if (upstream) daemons.push(upstream);
    ctx.log(`  warm-up ${warmupSeconds} s, then ${seconds} s of 100 idle queues per daemon`);
    await sleep(warmupSeconds * 1000);
    const before = await Promise.all(daemons.map((daemon) => cpuOf(admin, daemon)));
    const ticksBefore = await Promise.all(daemons.map((daemon) => tickCount(daemon.configs)));
    await sleep(seconds * 1000);
    const after = await Promise.all(daemons.map((daemon) => cpuOf(admin, daemon)));
    const ticks = await Promise.all(
      daemons.map(async (daemon, i) => (await tickCount(daemon.configs)) - (ticksBefore[i] ?? 0)),
    );
    const percent = (cpu: number) => Math.round((cpu / seconds) * 10000) / 100;
    const cost = daemons.map((daemon, i) => {
      const own = (after[i]?.own ?? 0) - (before[i]?.own ?? 0);
      const server = (after[i]?.server ?? 0) - (before[i]?.server ?? 0);
      ctx.log(
        `  ${daemon.name}: ${percent(own)}% own, ${percent(server)}% backends, ${ticks[i]} ticks`,
      );
      return { own: percent(own), server: percent(server), ticks: ticks[i] ?? 0 };
    });
    const [mine, theirs] = cost as [(typeof cost)[0], (typeof cost)[0] | undefined];
    const allowed = databases * queuesPerDatabase * (Math.floor(seconds / idlePeriodSeconds) + 1);
    const notInstalled = `n/a (${upstreamPgqd} not installed)`;
    return {
      value: mine.own,
      unit: '% of one core (pgqd process)',
      baseline: theirs ? theirs.own : notInstalled,
      ratio: theirs && theirs.own > 0 ? Math.round((mine.own / theirs.own) * 1000) / 1000 : 'n/a',
      pgqd_cpu_percent: mine.own,
      upstream_pgqd_cpu_percent: theirs ? theirs.own : notInstalled,
      // The backends of each daemon's connections (per /proc, so a local server only).
      server_cpu_percent: mine.server,
      upstream_server_cpu_percent: theirs ? theirs.server : notInstalled,
      ticks_written: mine.ticks,
      upstream_ticks_written: theirs ? theirs.ticks : notInstalled,
      ticks_allowed: allowed,
      queues: databases * queuesPerDatabase,
      databases,
      seconds,
    };
  } finally {
    await Promise.all(daemons.map((daemon) => stopChild(daemon.child)));
    for (const set of sets) {
      for (const name of set.names) {
        await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
      }
    }
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
