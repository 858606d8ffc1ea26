/**
 * What a cascaded worker or consumer reports after each batch, for the periodic stats line
 * monitors parse (`{count: N, duration: S}`) and for callers' own metrics. The hook runs
 * after the batch is committed and finished, so it can never undo or repeat one; a hook that
 * throws is only logged.
 */
import type { Logger } from '../pgq/logger.js';

export interface CascadedBatchStats {
  /** The provider's batch id. */
  batch: number;
  /** The provider tick the batch ended at: the node's (or consumer's) position now. */
  tick: string;
  /**
   * Events of the batch read from the provider. A leaf's worker reads only the cascade's
   * own events (pgq.*): the provider filters the rest out. A consumer counts the events it
   * handed to the handler. 0 for a batch that had been applied before a crash and was only
   * finished now.
   */
  count: number;
  /** Events written into a local queue: a branch's copy, a merge-leaf's combined queue; else 0. */
  copied: number;
  /** Seconds from reading the batch to finishing it on the provider. */
  duration: number;
}

export type BatchStatsHook = (stats: CascadedBatchStats) => void;

/** Call the hook; its failure is the caller's bug, not the batch's, so it is only logged. */
export function reportBatch(
  hook: BatchStatsHook | undefined,
  stats: CascadedBatchStats,
  log: Logger,
): void {
  if (hook === undefined) return;
  try {
    hook(stats);
  } catch (error) {
    log.warn({ err: error, batch: stats.batch }, 'onBatch hook failed');
  }
}
