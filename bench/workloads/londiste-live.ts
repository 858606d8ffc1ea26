import type { WorkloadResult } from '../lib/compare.js';
import { round } from '../lib/compare-replication.js';
import type { BenchContext } from '../lib/context.js';
import { londisteNodes } from '../lib/londiste.js';
import {
  applyWorkerPid,
  createSubscription,
  dropSubscription,
  type NativeReplication,
} from '../lib/native.js';
import { waitFor } from '../lib/poll.js';
import { checkSame, openSides, type Sides } from '../lib/replication-sides.js';
import { hasRow, pacedInserts, watchArrivals, writeMarker } from '../lib/row-load.js';
import { processCpuSeconds } from '../lib/server-cpu.js';
import { quantile } from '../lib/stats.js';

// Replication delay under a steady load with default settings: one-row INSERT transactions
// at `rate` per second on the source for `seconds`, replicated live. A row's delay runs from
// when its COMMIT returned to the loader to the first poll of the target that sees it (a
// watcher queries the target every 5 ms for the ids not seen yet, so a delay is high by at
// most one interval plus a query); one clock, this process's. Rows of the first
// `warmupSeconds` are not counted. One run per side: native first, then Londiste. (Commit
// timestamps of the target cannot serve: a subscriber's apply worker commits with the
// origin's commit time.)

const nativeTable = 'bench.native_live';
const londisteTable = 'bench.londiste_live';
const rate = 2000;
/** Loader clients: one alone cannot offer 2000 round trips a second on a busy machine. */
const loaders = 8;

interface Delays {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  rate: number;
  /** Client CPU (Londiste's worker) or server CPU (native apply worker) per row, µs. */
  cpuUsPerRow: number | undefined;
}

/**
 * Load at the rate, a marker after it, until the marker is on the target; then the delays.
 * The replica is streaming already. `cpu` reads the replica's CPU seconds.
 */
async function measure(
  sides: Sides,
  table: string,
  seconds: number,
  warmupSeconds: number,
  cpu: () => number | undefined,
  alive: () => void,
): Promise<Delays> {
  const total = Math.round(rate * seconds);
  const marker = total + 1;
  const watcherClient = await sides.pair.target.connect();
  const watcher = watchArrivals(watcherClient, table, 1, marker);
  try {
    const cpuStart = cpu();
    const load = await pacedInserts(sides.loaders, table, { rate, seconds, firstId: 1 });
    await writeMarker(sides.source, table, marker);
    await waitFor(`${table}: the marker on the target`, async () => {
      alive();
      return watcher.seen(marker);
    });
    const cpuEnd = cpu();
    await watcher.stop();
    const first = Math.round(rate * warmupSeconds);
    const delays: number[] = [];
    for (let i = first; i < total; i++) {
      const at = watcher.seenAt[i] as number;
      if (Number.isNaN(at))
        throw new Error(`bench: row ${i + 1} of ${table} not seen on the target`);
      delays.push(at - (load.committedAt[i] as number));
    }
    delays.sort((a, b) => a - b);
    await checkSame(sides, table);
    const ms = (q: number) => Math.round(quantile(delays, q) * 10) / 10;
    return {
      p50: ms(0.5),
      p95: ms(0.95),
      p99: ms(0.99),
      max: ms(1),
      rate: Math.round(load.rate),
      cpuUsPerRow:
        cpuStart === undefined || cpuEnd === undefined
          ? undefined
          : round(((cpuEnd - cpuStart) * 1e6) / marker),
    };
  } finally {
    await watcher.stop();
    await watcherClient.end();
  }
}

async function nativeRun(sides: Sides, seconds: number, warmup: number): Promise<Delays> {
  const native: NativeReplication = sides.native;
  await dropSubscription(native);
  await createSubscription(native, { copyData: false });
  try {
    // The apply worker streams once a row written now has arrived.
    await writeMarker(sides.source, nativeTable, 0);
    await waitFor('native: the subscription streaming', () => hasRow(sides.target, nativeTable, 0));
    const pid = await applyWorkerPid(native);
    return await measure(
      sides,
      nativeTable,
      seconds,
      warmup,
      () => (pid === null ? undefined : processCpuSeconds(pid)),
      () => {},
    );
  } finally {
    await dropSubscription(native);
  }
}

export async function live(ctx: BenchContext): Promise<WorkloadResult> {
  const pair = await ctx.replicationPair();
  if (typeof pair === 'string') return { unit: 'ms', skipped: pair };
  const seconds = ctx.quick ? 15 : 60;
  const warmup = ctx.quick ? 3 : 5;
  const sides = await openSides(pair, [nativeTable], [londisteTable], loaders);
  try {
    ctx.log(`  native: ${rate} rows/s for ${seconds} s`);
    const native = await nativeRun(sides, seconds, warmup);
    ctx.log(`  native: p50 ${native.p50} ms, p99 ${native.p99} ms at ${native.rate} rows/s`);
    const base: WorkloadResult = {
      unit: 'ms',
      baseline: native.p50,
      baseline_p95: native.p95,
      baseline_p99: native.p99,
      baseline_max: native.max,
      baseline_rate: native.rate,
      ...(native.cpuUsPerRow === undefined
        ? {}
        : { native_apply_cpu_us_per_row: native.cpuUsPerRow }),
      seconds,
      warmup_seconds: warmup,
      rows_per_s: rate,
      loaders,
    };
    let ours: Delays;
    try {
      const nodes = await londisteNodes(pair, ctx.log);
      if (typeof nodes === 'string') throw new Error(nodes);
      await nodes.addTable(londisteTable, false);
      const worker = nodes.startWorker();
      try {
        await writeMarker(sides.source, londisteTable, 0);
        await waitFor('londiste: the worker replaying', async () => {
          worker.checkAlive();
          return hasRow(sides.target, londisteTable, 0);
        });
        ctx.log(`  londiste: ${rate} rows/s for ${seconds} s`);
        ours = await measure(
          sides,
          londisteTable,
          seconds,
          warmup,
          () => worker.cpuSeconds(),
          () => worker.checkAlive(),
        );
      } finally {
        await worker.stop();
      }
    } catch (error) {
      ctx.log(`  londiste side failed: ${(error as Error).message}`);
      return { ...base, londiste_missing: (error as Error).message };
    }
    ctx.log(`  londiste: p50 ${ours.p50} ms, p99 ${ours.p99} ms at ${ours.rate} rows/s`);
    return {
      value: ours.p50,
      ...base,
      p95: ours.p95,
      p99: ours.p99,
      max: ours.max,
      rate: ours.rate,
      ...(ours.cpuUsPerRow === undefined ? {} : { worker_cpu_us_per_row: ours.cpuUsPerRow }),
      // lower is better for a delay: the ratio is native's over ours, as for the rates
      ratio: Math.round((native.p50 / ours.p50) * 1000) / 1000,
    };
  } finally {
    await sides.close();
  }
}
