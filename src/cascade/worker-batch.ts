/**
 * One provider batch applied to the local node in one local transaction: the events copied
 * (branch: into its own queue; merge-leaf: data events into the combined queue), the cascade
 * events and the tool's hooks applied, and the worker's position moved to the batch's tick.
 * The branch's tick comes after the commit (see CascadedWorker).
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
import type { BatchContext, CascadeWorkerHooks } from './worker-hooks.js';

/** What the worker does with a batch, by the node's type (table of §2.3). */
export type CopyKind =
  /** branch: every event into the local queue, same ids, then the same tick. */
  | 'branch'
  /** leaf: cascade events only. */
  | 'leaf'
  /** merge-leaf into a combined root: data events into the combined queue, plus pgq.tick-id. */
  | 'merge'
  /** merge-leaf into a combined branch: cascade events only, behind the combined queue. */
  | 'wait-behind'
  /**
   * A tool's helper beside the node's worker (a Londiste table copy): its own consumer and
   * position, the tool's events only; no cascade events, watermarks or ticks.
   */
  | 'copy-helper';

export interface WorkerTarget extends CascadeTarget {
  worker: string;
  kind: CopyKind;
  combinedQueue: string | null;
}

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
 * A batch read as rows in bounded blocks (leaf, merge-leaf, copy helper, and a branch whose
 * tool must see its events): applied in one transaction on `local`; commits on success,
 * rolls back and rethrows on any failure (the batch stays unfinished on the provider and
 * comes again). Per block: the rows to copy go into the local queue, then the tool's
 * `applyEvents` and the cascade's own events run in the batch's order.
 */
export async function applyBatch(
  local: pg.Client,
  batch: Batch,
  info: ProviderBatchInfo,
  target: WorkerTarget,
  log: Logger,
  tool: { hooks: CascadeWorkerHooks; ctx: BatchContext } = { hooks: {}, ctx: noContext },
): Promise<Applied> {
  const { hooks, ctx } = tool;
  const context = { queue: target.queue, node: target.node, consumer: target.worker };
  let copier: EventCopier | null = null;
  const applied: Applied = { copied: 0, read: 0, globalWatermark: null };
  const appliesCascade = target.kind !== 'copy-helper';
  await local.query('begin');
  try {
    if (target.kind === 'branch') {
      await enterReplicaRole(local, context);
      copier = new EventCopier(local, await currentEventTable(local, target.queue), true);
    }
    if (target.kind === 'merge') copier = await mergeCopier(local, target);
    for await (const block of prefetched(batch.blocks())) {
      applied.read += block.length;
      if (copier !== null) await copier.write(rowsToCopy(block, target.kind, hooks, ctx));
      const hasCascade = appliesCascade && block.some((event) => isCascadeEvent(event.row));
      if (!hasCascade && hooks.applyEvents === undefined) continue;
      // Statements follow on the connection: the COPY so far ends first.
      await copier?.end();
      let run: Event[] = [];
      for (const event of block) {
        if (!isCascadeEvent(event.row)) {
          if (hooks.applyEvents !== undefined) run.push(event);
          continue;
        }
        if (!appliesCascade) continue;
        if (run.length > 0) await hooks.applyEvents?.(ctx, run);
        run = [];
        const watermark = await applyCascadeEvent(local, target, event.row, log);
        if (watermark !== null) applied.globalWatermark = watermark;
      }
      if (run.length > 0) await hooks.applyEvents?.(ctx, run);
    }
    if (copier !== null) {
      await copier.end();
      applied.copied = copier.rows;
    }
    if (target.kind === 'merge') {
      await local.query(tickIdEventSql, [target.combinedQueue, info.tick, target.queue]);
    }
    await hooks.beforeCompleted?.(ctx);
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

/**
 * What a block puts into the local queue: a branch every event (the tool may rewrite or drop
 * all but the cascade's own), a merge-leaf the data events but Londiste's own.
 */
function rowsToCopy(
  block: readonly Event[],
  kind: CopyKind,
  hooks: CascadeWorkerHooks,
  ctx: BatchContext,
): EventRow[] {
  const rows: EventRow[] = [];
  for (const event of block) {
    const row = event.row;
    const cascade = isCascadeEvent(row);
    if (kind === 'merge') {
      if (!cascade && !isLondisteEvent(row)) rows.push(row);
      continue;
    }
    if (cascade || hooks.forwardEvent === undefined) {
      rows.push(row);
      continue;
    }
    const forwarded = hooks.forwardEvent(ctx, event);
    if (forwarded !== null) rows.push(forwarded);
  }
  return rows;
}

/** For calls without a tool: no hook reads it. */
const noContext = {} as BatchContext;

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
