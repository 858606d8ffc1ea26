/**
 * One provider batch applied to the local node in one local transaction: the events copied
 * (branch: into its own queue; merge-leaf: data events into the combined queue), the cascade
 * events applied, and the worker's position moved to the batch's tick. The branch's tick
 * comes after the commit (see CascadedWorker).
 */
import type pg from 'pg';
import type { Batch } from '../pgq/batch.js';
import type { Event, EventRow } from '../pgq/event.js';
import type { Logger } from '../pgq/logger.js';
import { streamBatch } from './branch-stream.js';
import { applyCascadeEvent, type CascadeTarget, isCascadeEvent } from './cascade-events.js';
import { setCompletedSql, tickIdEventSql } from './cascade-sql.js';
import { currentEventTable, EventCopier } from './copy-events.js';
import { callRet } from './node-calls.js';
import type { ProviderBatchInfo } from './provider-link.js';
import { enterReplicaRole } from './replica-role.js';

/** What the worker does with a batch, by the node's type (table of §2.3). */
export type CopyKind =
  /** branch: every event into the local queue, same ids, then the same tick. */
  | 'branch'
  /** leaf: cascade events only. */
  | 'leaf'
  /** merge-leaf into a combined root: data events into the combined queue, plus pgq.tick-id. */
  | 'merge'
  /** merge-leaf into a combined branch: cascade events only, behind the combined queue. */
  | 'wait-behind';

export interface WorkerTarget extends CascadeTarget {
  worker: string;
  kind: CopyKind;
  combinedQueue: string | null;
}

/** Only cascade events matter where nothing is copied: the provider filters the rest out. */
export const cascadeOnlyFilter = "ev_type like 'pgq.%'";

/**
 * A branch's batch: streamed from the provider into the local queue (branch-stream.ts), its
 * cascade events applied, the position moved, committed. The provider batch stays open.
 */
export async function applyBranchBatch(
  local: pg.Client,
  provider: pg.Client,
  info: ProviderBatchInfo,
  target: WorkerTarget,
  options: { log: Logger; highWaterMark: number },
): Promise<Applied> {
  const context = { queue: target.queue, node: target.node, consumer: target.worker };
  await local.query('begin');
  try {
    await enterReplicaRole(local, context);
    const table = await currentEventTable(local, target.queue);
    const streamed = await streamBatch(provider, local, info.id, table, {
      queue: target.queue,
      highWaterMark: options.highWaterMark,
    });
    let globalWatermark: string | null = null;
    for (const row of streamed.cascade) {
      const watermark = await applyCascadeEvent(local, target, row, options.log);
      if (watermark !== null) globalWatermark = watermark;
    }
    await callRet(local, setCompletedSql, [target.queue, target.worker, info.tick], context);
    await local.query('commit');
    return { copied: streamed.rows, read: streamed.rows, globalWatermark };
  } catch (error) {
    await local.query('rollback').catch(() => {});
    throw error;
  }
}

export interface Applied {
  /** Events copied into a local queue. */
  copied: number;
  /** Events of the batch read from the provider. */
  read: number;
  /** The last global watermark the batch carried (remembered by sync_watermark nodes). */
  globalWatermark: string | null;
}

/**
 * A leaf's or merge-leaf's batch, read in bounded blocks: applied in one transaction on
 * `local`; commits on success, rolls back and rethrows on any failure (the batch stays
 * unfinished on the provider and comes again).
 */
export async function applyBatch(
  local: pg.Client,
  batch: Batch,
  info: ProviderBatchInfo,
  target: WorkerTarget,
  log: Logger,
): Promise<Applied> {
  const context = { queue: target.queue, node: target.node, consumer: target.worker };
  let copier: EventCopier | null = null;
  const applied: Applied = { copied: 0, read: 0, globalWatermark: null };
  await local.query('begin');
  try {
    if (target.kind === 'merge') copier = await mergeCopier(local, target);
    const pending: EventRow[] = [];
    for await (const block of prefetched(batch.blocks())) {
      applied.read += block.length;
      for (const event of block) {
        const row = event.row;
        const cascade = isCascadeEvent(row);
        if (copier !== null && !cascade && !isLondisteEvent(row)) {
          pending.push(row);
        }
        if (!cascade) continue;
        // The cascade event runs statements on the connection: the COPY so far ends first.
        if (copier !== null) {
          await copier.write(pending.splice(0));
          await copier.end();
        }
        const watermark = await applyCascadeEvent(local, target, row, log);
        if (watermark !== null) applied.globalWatermark = watermark;
      }
      if (copier !== null) await copier.write(pending.splice(0));
    }
    if (copier !== null) {
      await copier.end();
      applied.copied = copier.rows;
    }
    if (target.kind === 'merge') {
      await local.query(tickIdEventSql, [target.combinedQueue, info.tick, target.queue]);
    }
    if (target.kind !== 'wait-behind') {
      await callRet(local, setCompletedSql, [target.queue, target.worker, info.tick], context);
    }
    await local.query('commit');
    return applied;
  } catch (error) {
    await copier?.abort();
    await local.query('rollback').catch(() => {});
    throw error;
  }
}

/** COPY into the combined queue; the events get its ids, their own time and payload. */
async function mergeCopier(local: pg.Client, target: WorkerTarget): Promise<EventCopier> {
  return new EventCopier(local, await currentEventTable(local, target.combinedQueue as string));
}

/** Londiste's own events stay in the partition queue: the combined queue has its own. */
function isLondisteEvent(row: EventRow): boolean {
  return row[4]?.startsWith('londiste.') === true;
}

/**
 * The provider's next block is fetched while the current one is written locally: reading
 * and copying overlap, on two servers' worth of work. Only one block is held ahead.
 */
async function* prefetched(
  blocks: AsyncGenerator<Event[], void, undefined>,
): AsyncGenerator<Event[], void, undefined> {
  let next = blocks.next();
  next.catch(() => {});
  for (;;) {
    const result = await next;
    if (result.done === true) return;
    next = blocks.next();
    next.catch(() => {});
    yield result.value;
  }
}
