/**
 * What a tool built on the cascaded worker (Londiste) plugs into it: a session hook, a hook
 * before each batch, the batch's events inside the subscriber's transaction before the
 * position moves (set_consumer_completed), a hook after the commit, the events to fetch, and
 * on a branch a rewrite of each event it forwards. A worker without hooks is setadm's: its
 * fast paths (a branch streams COPY bytes, a leaf reads only pgq.* events) stay as they are;
 * only a hook that needs decoded events makes the worker decode them.
 */
import type pg from 'pg';
import type { Event, EventRow } from '../pgq/event.js';
import type { Logger } from '../pgq/logger.js';
import type { CascadedBatchStats } from './batch-stats.js';
import type { NodeType } from './node-calls.js';
import type { CopyKind } from './worker-batch.js';

/** Which of the worker's two sessions a hook is given. */
export type SessionRole = 'subscriber' | 'provider';

/** What a hook may read about the batch in hand. */
export interface BatchContext {
  readonly queue: string;
  /** The local node's name and type. */
  readonly node: string;
  readonly nodeType: NodeType;
  /** What the worker does with the batch (branch, leaf, merge, wait-behind, copy-helper). */
  readonly kind: CopyKind;
  /** The consumer the batch belongs to: the node's worker, or a copy helper's own name. */
  readonly consumer: string;
  readonly providerNode: string;
  /** The provider's batch: id, the ticks it spans, the tick time. */
  readonly batch: {
    readonly id: number;
    readonly tick: string;
    readonly prevTick: string;
    readonly tickTime: Date;
  };
  /**
   * The subscriber's session (the local node). From `applyEvents` to `beforeCompleted` it is
   * inside the batch's transaction: what a hook writes there commits with the new position.
   */
  readonly subscriber: pg.Client;
  /** The provider's session; between beforeBatch and afterCommit it is reading the batch. */
  readonly provider: pg.Client;
  readonly log: Logger;
}

export interface CascadeWorkerHooks {
  /**
   * Each new session, before anything else runs on it (e.g. `set session_replication_role
   * = replica` for replay). A throw fails the loop; the session is opened again next loop.
   */
  onConnect?(session: pg.Client, role: SessionRole): Promise<void> | void;
  /** A batch came, before its events are read and before the local transaction begins. */
  beforeBatch?(ctx: BatchContext): Promise<void> | void;
  /**
   * Which events to fetch, as an SQL condition over the event columns (`ev_type`,
   * `ev_extra1`, ...); null = every event. Asked once per batch, after beforeBatch. The
   * cascade's own events (pgq.*) are always fetched besides. Not asked on a branch, whose
   * queue must keep every event. Absent: a leaf (or a merge-leaf behind a combined branch)
   * without `applyEvents` fetches pgq.* only (setadm's fast path), every other worker every
   * event.
   */
  eventFilter?(ctx: BatchContext): string | null;
  /**
   * The batch's events but the cascade's own, block by block in order, inside the
   * subscriber's transaction (`ctx.subscriber`) before the position moves. A throw rolls
   * the whole batch back: nothing is marked completed and the batch comes again.
   */
  applyEvents?(ctx: BatchContext, events: readonly Event[]): Promise<void>;
  /** After the last block, still inside the transaction, just before set_consumer_completed. */
  beforeCompleted?(ctx: BatchContext): Promise<void>;
  /**
   * On a branch: the row to copy into the branch's queue in place of `event` (same column
   * order as `event.row`: ev_id, ev_time, ev_txid, ev_retry, ev_type, ev_data, ev_extra1..4;
   * ev_txid is ignored, the branch gives its own), or null to drop it. Cascade events are
   * never given to it. Setting it makes the branch decode its batches instead of streaming
   * them as bytes.
   */
  forwardEvent?(ctx: BatchContext, event: Event): EventRow | null;
  /**
   * After the local commit and the provider's finish_batch. A throw fails the loop (logged,
   * stored in cur_error) but the batch stays done.
   */
  afterCommit?(ctx: BatchContext, stats: CascadedBatchStats): Promise<void> | void;
  /**
   * A copy helper only, before it asks for its next batch: how many events that batch may
   * span by merging the ticks waiting on the provider (0 or absent: one tick). A helper far
   * behind a busy ticker otherwise walks its catch-up one tick per transaction.
   */
  helperMergeEvents?(): number;
}

const hookNames = [
  'onConnect',
  'beforeBatch',
  'eventFilter',
  'applyEvents',
  'beforeCompleted',
  'forwardEvent',
  'afterCommit',
  'helperMergeEvents',
] as const;

/** Every hook given is a function, and no unknown name hides a typo. */
export function checkHooks(hooks: unknown, fail: (message: string) => never): CascadeWorkerHooks {
  if (hooks === undefined) return {};
  if (hooks === null || typeof hooks !== 'object') fail('option hooks must be an object');
  for (const [name, value] of Object.entries(hooks as object)) {
    if (!(hookNames as readonly string[]).includes(name)) {
      fail(`option hooks: unknown hook ${name} (known: ${hookNames.join(', ')})`);
    }
    if (value !== undefined && typeof value !== 'function') {
      fail(`option hooks.${name} must be a function`);
    }
  }
  return hooks as CascadeWorkerHooks;
}

/** A leaf that applies nothing but the cascade's own events reads only those. */
export const cascadeOnlyFilter = "ev_type like 'pgq.%'";

/**
 * The condition the provider reads the batch with: the tool's filter, widened so the
 * cascade's own events always come too; null = every event.
 */
export function batchFilter(
  hooks: CascadeWorkerHooks,
  ctx: BatchContext,
  kind: CopyKind,
): string | null {
  if (kind === 'branch') return null;
  if (hooks.eventFilter === undefined) {
    const cascadeOnly = kind === 'leaf' || kind === 'wait-behind';
    return cascadeOnly && hooks.applyEvents === undefined ? cascadeOnlyFilter : null;
  }
  const chosen = hooks.eventFilter(ctx);
  if (chosen === null) return null;
  return `(${chosen}) or ${cascadeOnlyFilter}`;
}

/** A branch decodes its batches only when a hook must see or rewrite the events. */
export function branchDecodes(hooks: CascadeWorkerHooks): boolean {
  return hooks.forwardEvent !== undefined || hooks.applyEvents !== undefined;
}
