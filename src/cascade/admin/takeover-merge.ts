/**
 * Merge workers during a root switchover: leaves of other (partition) queues in the old
 * root's database that copy into this queue (get_node_info's target_for). They are paused
 * first, and the switchover waits until the new root's own merge workers for the same
 * partition queues have reached the same positions, so no partition event is in the combined
 * queue of one root and not the other.
 */
import type pg from 'pg';
import { getConsumerState, getNodeInfo } from '../node-calls.js';
import type { AdminSession } from './session.js';
import { tickOf } from './takeover-state.js';

const POLL_MS = 300;

export interface MergeWorker {
  /** The partition queue the merge leaf reads. */
  partQueue: string;
  worker: string;
  lastTick: bigint;
}

/** The merge workers in `db` targeting this queue. */
export async function mergeWorkers(
  db: pg.Client,
  targetFor: string[] | null,
): Promise<MergeWorker[]> {
  const workers: MergeWorker[] = [];
  for (const partQueue of targetFor ?? []) {
    const info = await getNodeInfo(db, partQueue);
    if (info.worker_name === null) continue;
    workers.push({
      partQueue,
      worker: info.worker_name,
      lastTick: tickOf(info.worker_last_tick),
    });
  }
  return workers;
}

/** Pause or resume one merge worker; a pause waits for the worker's acknowledgement. */
export async function setMergePaused(
  session: AdminSession,
  node: string,
  db: pg.Client,
  merge: MergeWorker,
  paused: boolean,
): Promise<void> {
  await session.change(node, db, 'select * from pgq_node.set_consumer_paused($1, $2, $3)', [
    merge.partQueue,
    merge.worker,
    paused,
  ]);
  if (session.dryRun || !paused) return;
  for (;;) {
    const state = await getConsumerState(db, merge.partQueue, merge.worker);
    if (state.uptodate) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Wait until the new root's merge worker of each partition queue is where the old one is. */
export async function waitMergeMatch(
  session: AdminSession,
  oldDb: pg.Client,
  newDb: pg.Client,
  merges: MergeWorker[],
): Promise<void> {
  if (session.dryRun) return;
  for (const merge of merges) {
    const target = tickOf((await getNodeInfo(oldDb, merge.partQueue)).worker_last_tick);
    for (;;) {
      const at = tickOf((await getNodeInfo(newDb, merge.partQueue)).worker_last_tick);
      if (at >= target) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    session.out.info(`merge position of ${merge.partQueue} matches (tick ${target})`);
  }
}
