import type { WorkloadResult } from '../lib/compare.js';
import { compareReplication, round } from '../lib/compare-replication.js';
import type { BenchContext } from '../lib/context.js';
import { type LondisteNodes, londisteNodes, londisteQueue } from '../lib/londiste.js';
import { createSubscription, dropSubscription, enableSubscription } from '../lib/native.js';
import { waitFor } from '../lib/poll.js';
import { checkSame, defaultLoaders, openSides, type Sides } from '../lib/replication-sides.js';
import {
  emptyRows,
  fillRows,
  hasRow,
  type RowKind,
  writeMarker,
  writeRows,
} from '../lib/row-load.js';
import { summarize, timed } from '../lib/stats.js';

// Catch-up after a stop: the replica is stopped (Londiste: no worker; native: the subscription
// created disabled), `count` one-row transactions are committed on the source, then a marker
// row; the time runs from the start (the worker process spawned; ALTER SUBSCRIPTION ENABLE)
// until the marker is on the target. Both sides then hold the same rows (checked).

async function resetRows(sides: Sides, table: string, kind: RowKind, count: number) {
  for (const client of [sides.source, sides.target]) {
    await emptyRows(client, [table]);
    if (kind === 'update') await fillRows(client, table, count);
    await client.query(`vacuum analyze ${table}`);
  }
}

export async function catchup(ctx: BenchContext, kind: RowKind): Promise<WorkloadResult> {
  const pair = await ctx.replicationPair();
  if (typeof pair === 'string') return { unit: 'rows/s', skipped: pair };
  const count = ctx.quick ? 20_000 : 200_000;
  const marker = count + 1;
  // Tables of this workload's own (see LondisteNodes.addTable).
  const nativeTable = `bench.native_${kind}`;
  const londisteTable = `bench.londiste_${kind}`;
  const sides = await openSides(pair, [nativeTable], [londisteTable]);
  const nodes = await londisteNodes(pair, ctx.log);
  const cpuPerRow: number[] = [];
  const ticks: number[] = [];
  let round_ = 0;
  try {
    const native = async () => {
      round_ += 1;
      await dropSubscription(sides.native);
      await resetRows(sides, nativeTable, kind, count);
      await createSubscription(sides.native, { copyData: false, enabled: false });
      await writeRows(sides.loaders, kind, nativeTable, count, round_);
      await writeMarker(sides.source, nativeTable, marker);
      const seconds = await timed(async () => {
        await enableSubscription(sides.native);
        await waitFor('native: the marker on the target', () =>
          hasRow(sides.target, nativeTable, marker),
        );
      });
      await checkSame(sides, nativeTable);
      await dropSubscription(sides.native);
      return (count + 1) / seconds;
    };
    const londiste =
      typeof nodes === 'string'
        ? nodes
        : await prepareLondiste(nodes, londisteTable, async () => {
            round_ += 1;
            return londisteSample(nodes, sides, londisteTable, kind, count, round_, {
              cpuPerRow,
              ticks,
            });
          });
    const result = await compareReplication({
      repeat: ctx.repeat,
      unit: 'rows/s',
      native,
      londiste,
      log: ctx.log,
    });
    const cpu: WorkloadResult =
      cpuPerRow.length > 0
        ? {
            worker_cpu_us_per_row: round(summarize(cpuPerRow.slice(-ctx.repeat)).median),
            // batches the worker had to apply: pgqd ticks the root as the load goes on
            londiste_batches: Math.round(summarize(ticks.slice(-ctx.repeat)).median),
          }
        : {};
    return { ...result, rows_per_sample: count, loaders: defaultLoaders, ...cpu };
  } finally {
    await sides.close();
  }
}

/** The Londiste table added on both nodes with no copy (both empty), or why it cannot be. */
async function prepareLondiste(
  nodes: LondisteNodes,
  londisteTable: string,
  sample: () => Promise<number>,
): Promise<(() => Promise<number>) | string> {
  try {
    await nodes.addTable(londisteTable, false);
    return sample;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Worker stopped: load, marker, a tick forced; then the worker's time to the marker. */
async function londisteSample(
  nodes: LondisteNodes,
  sides: Sides,
  londisteTable: string,
  kind: RowKind,
  count: number,
  round: number,
  stats: { cpuPerRow: number[]; ticks: number[] },
): Promise<number> {
  const marker = count + 1;
  await resetRows(sides, londisteTable, kind, count);
  const lastTick = async () => {
    const { rows } = await sides.source.query<{ t: string }>(
      'select last_tick_id::text as t from pgq.get_queue_info($1)',
      [londisteQueue],
    );
    return Number(rows[0]?.t);
  };
  const firstTick = await lastTick();
  await writeRows(sides.loaders, kind, londisteTable, count, round);
  await writeMarker(sides.source, londisteTable, marker);
  await sides.source.query('select pgq.force_tick($1)', [londisteQueue]);
  await sides.source.query('select pgq.ticker($1)', [londisteQueue]);
  stats.ticks.push((await lastTick()) - firstTick);
  const start = performance.now();
  const worker = nodes.startWorker();
  let seconds: number;
  let cpu: number;
  try {
    await waitFor('londiste: the marker on the leaf', async () => {
      worker.checkAlive();
      return hasRow(sides.target, londisteTable, marker);
    });
    seconds = (performance.now() - start) / 1000;
    cpu = worker.cpuSeconds();
  } finally {
    await worker.stop();
  }
  stats.cpuPerRow.push((cpu * 1e6) / (count + 1));
  await checkSame(sides, londisteTable);
  return (count + 1) / seconds;
}
