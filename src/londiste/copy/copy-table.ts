/**
 * One table's data from the copy source to the local node: placeholder signature, filled
 * in by the copy work.
 */
import type pg from 'pg';
import type { Logger } from '../../pgq/logger.js';
import type { TableHandler } from '../handler.js';

export interface CopyProgress {
  rows: number;
  bytes: number;
  /** Rows the source's statistics expect; null when unknown. */
  expectedRows: number | null;
  /** Rows per second so far. */
  rate: number;
  /** Seconds left at this rate; null when unknown. */
  etaSeconds: number | null;
}

export interface CopyTableOptions {
  /** The copy source's session (no transaction open: copyTable opens REPEATABLE READ). */
  source: pg.Client;
  /** The local session (no transaction open: copyTable opens and commits the copy's). */
  dest: pg.Client;
  /** The set's name of the table and where it goes locally. */
  table: string;
  destTable: string;
  handler: TableHandler;
  /** Keep the rows the table has (`skip_truncate`). */
  skipTruncate: boolean;
  /** Leave indexes and constraints alone (a merge follower: the lead dropped them). */
  keepDdl: boolean;
  /** Rows per second at most (ours: `--copy-rate`); undefined = no limit. */
  rowsPerSecond?: number;
  log: Logger;
  signal?: AbortSignal;
  onProgress?(progress: CopyProgress): void;
  /**
   * In the local transaction, after the rows are in and the indexes rebuilt, before the
   * commit: the worker's state change (catching-up with the snapshot) commits with the data.
   */
  beforeCommit(dest: pg.Client, result: { snapshot: string; rows: number }): Promise<void>;
}

export interface CopyTableResult {
  /** txid_current_snapshot() of the source's copy transaction. */
  snapshot: string;
  rows: number;
  bytes: number;
}

export async function copyTable(_options: CopyTableOptions): Promise<CopyTableResult> {
  throw new Error('not built yet');
}
