import type pg from 'pg';
import type { WorkloadResult } from '../lib/compare.js';
import { compareReplication, round } from '../lib/compare-replication.js';
import type { BenchContext } from '../lib/context.js';
import {
  type LondisteNodes,
  londisteNodes,
  type WorkerProcess,
  waitTableOk,
} from '../lib/londiste.js';
import { createSubscription, dropSubscription, waitReady } from '../lib/native.js';
import { checkSame, openSides, type Sides } from '../lib/replication-sides.js';
import { emptyRows, fillRows, heartbeat } from '../lib/row-load.js';
import { summarize, timed } from '../lib/stats.js';

// Initial copy of a filled table while the source takes 20 heartbeat transactions a second
// (into a second replicated table, as a live root has): Londiste's add-table on the leaf
// (its worker running) until the table is `ok` there, against CREATE SUBSCRIPTION (the
// publication has both tables) until every table of the subscription is `r`.

const nativeBig = 'bench.native_big';
const nativeBeat = 'bench.native_heartbeat';
const londisteBig = 'bench.londiste_big';
const londisteBeat = 'bench.londiste_heartbeat';

export async function copyWorkload(ctx: BenchContext): Promise<WorkloadResult> {
  const pair = await ctx.replicationPair();
  if (typeof pair === 'string') return { unit: 'rows/s', skipped: pair };
  const count = ctx.quick ? 100_000 : 1_000_000;
  const sides = await openSides(pair, [nativeBig, nativeBeat], [londisteBig, londisteBeat]);
  const beatClient = sides.loaders[0] as pg.Client;
  // Heartbeat ids go on from sample to sample: the heartbeat tables are never emptied.
  let beats = 0;
  const withHeartbeat = async (table: string, work: () => Promise<void>) => {
    const beat = heartbeat(beatClient, table, beats + 1);
    try {
      await work();
    } finally {
      beats += await beat.stop();
    }
  };
  let worker: WorkerProcess | undefined;
  try {
    ctx.log(`  filling ${count.toLocaleString('en-US')} rows on the source`);
    for (const table of [nativeBig, londisteBig]) {
      await fillRows(sides.source, table, count);
      await sides.source.query(`vacuum analyze ${table}`);
    }
    const native = async () => {
      await dropSubscription(sides.native);
      await emptyRows(sides.target, [nativeBig, nativeBeat]);
      let seconds = 0;
      await withHeartbeat(nativeBeat, async () => {
        seconds = await timed(async () => {
          await createSubscription(sides.native, { copyData: true });
          await waitReady(sides.native);
        });
      });
      await checkSame(sides, nativeBig);
      await dropSubscription(sides.native);
      return count / seconds;
    };
    const nodes = await londisteNodes(pair, ctx.log);
    let londiste: (() => Promise<number>) | string;
    if (typeof nodes === 'string') londiste = nodes;
    else {
      try {
        worker = await prepareLondiste(nodes);
        const running = worker;
        londiste = () => londisteSample(nodes, running, sides, count, withHeartbeat);
      } catch (error) {
        londiste = (error as Error).message;
      }
    }
    const result = await compareReplication({
      repeat: ctx.repeat,
      unit: 'rows/s',
      native,
      londiste,
      log: ctx.log,
    });
    // The same samples with the copies as tasks of the worker (copy_mode = worker, ours),
    // against this run's native median.
    let workerMode: Record<string, number | string> = {};
    if (
      typeof nodes !== 'string' &&
      worker !== undefined &&
      result.londiste_missing === undefined
    ) {
      await worker.stop();
      worker = nodes.startWorker('--set', 'copy_mode=worker');
      const running = worker;
      const samples: number[] = [];
      try {
        for (let i = 0; i < ctx.repeat; i++) {
          samples.push(await londisteSample(nodes, running, sides, count, withHeartbeat));
          ctx.log(
            `  copy_mode = worker, sample ${i + 1}/${ctx.repeat}: ${Math.round(samples.at(-1) ?? 0).toLocaleString('en-US')} rows/s`,
          );
        }
        const median = summarize(samples).median;
        workerMode = {
          worker_mode: round(median),
          worker_mode_ratio:
            typeof result.baseline === 'number'
              ? Math.round((median / result.baseline) * 1000) / 1000
              : 'no baseline',
        };
      } catch (error) {
        workerMode = { worker_mode_missing: `failed: ${(error as Error).message}` };
      }
    }
    return { ...result, ...workerMode, copy_mode: 'process', rows: count, heartbeat_per_s: 20 };
  } finally {
    await worker?.stop();
    await sides.close();
  }
}

/**
 * The big table on the root, the heartbeat table on both nodes (no copy: both empty), and
 * the leaf's worker running.
 */
async function prepareLondiste(nodes: LondisteNodes): Promise<WorkerProcess> {
  await nodes.admin('root', 'add-table', londisteBig);
  await nodes.addTable(londisteBeat, false);
  return nodes.startWorker();
}

async function londisteSample(
  nodes: LondisteNodes,
  worker: WorkerProcess,
  sides: Sides,
  count: number,
  withHeartbeat: (table: string, work: () => Promise<void>) => Promise<void>,
): Promise<number> {
  if ((await nodes.tableState('leaf', londisteBig)) !== null) {
    await nodes.admin('leaf', 'remove-table', londisteBig);
  }
  await emptyRows(sides.target, [londisteBig]);
  let seconds = 0;
  await withHeartbeat(londisteBeat, async () => {
    seconds = await timed(async () => {
      await nodes.admin('leaf', 'add-table', londisteBig);
      await waitTableOk(nodes, worker, londisteBig);
    });
  });
  await checkSame(sides, londisteBig);
  return count / seconds;
}
