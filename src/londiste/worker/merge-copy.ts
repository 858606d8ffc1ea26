/**
 * The copy of one table from several partition queues into one destination table (merge,
 * spec §6.9), as `londiste._coordinate_copy` assigns the roles (get_table_list's `copy_role`):
 *
 * - `lead` (first source by queue name): truncates the table and drops its indexes and
 *   constraints once for every partition, keeps the statements that re-create them in
 *   `dropped_ddl` (committed with its data), then waits in catching-up while any other source
 *   is still copying, and restores the DDL once they all have;
 * - `wait-copy`: a follower waits before copying until the lead has dropped the DDL;
 * - `wait-replay`: a follower copies without truncating or touching indexes (ROW EXCLUSIVE,
 *   so several followers copy side by side), then waits in catching-up until the lead has
 *   restored the DDL;
 * - none: a single-source copy, as for any table.
 *
 * `copy_pos` counts the sources (earlier by queue name) copying the same table at the same
 * time: a copy waits while it reaches the table's `max_parallel_copy`.
 */
import type pg from 'pg';
import { callRet } from '../../cascade/node-calls.js';
import { fromDatabaseError } from '../../db/database-error.js';
import type { Logger } from '../../pgq/logger.js';
import { sleep } from '../../pgq/wakeup.js';
import type { TableInfo } from '../table-state.js';
import { loadLocalTables, workerTableAttrs } from './tables.js';

/** How often a copy waiting for its turn among the sources reads the states. */
const turnPollMs = 200;

/** How a copy treats the destination table, from its role. */
export interface MergeCopyPlan {
  /** Leave indexes and constraints as they are, keep the rows (a follower). */
  keepDdl: boolean;
  skipTruncate: boolean;
  /** Drop indexes and constraints but keep their statements for later (the lead). */
  deferDdl: boolean;
}

export function mergeCopyPlan(info: TableInfo, skipTruncate: boolean): MergeCopyPlan {
  switch (info.copyRole) {
    case 'lead':
      return { keepDdl: false, skipTruncate, deferDdl: true };
    case 'wait-replay':
      return { keepDdl: true, skipTruncate: true, deferDdl: false };
    default:
      return { keepDdl: false, skipTruncate, deferDdl: false };
  }
}

/** Whether a catching-up copy must hold its replay (the lead or a follower waiting). */
export function holdsCatchUp(info: TableInfo): boolean {
  return info.copyRole === 'lead' || info.copyRole === 'wait-replay';
}

function mustWaitToCopy(info: TableInfo): boolean {
  if (info.copyRole === 'wait-copy') return true;
  const max = workerTableAttrs(info.tableAttrs).maxParallelCopy;
  return max !== null && info.copyPos >= max;
}

/**
 * The table's row once its copy may start: not a follower waiting for the lead, not past
 * max_parallel_copy. Null when the table is no longer local or in-copy (removed, resynced),
 * or when `signal` stopped the wait.
 */
export async function waitCopyTurn(
  local: pg.ClientBase,
  queue: string,
  table: string,
  signal: AbortSignal,
  log: Logger,
): Promise<TableInfo | null> {
  let said = false;
  while (!signal.aborted) {
    const info = (await loadLocalTables(local, queue)).get(table);
    if (info === undefined || info.mergeState !== 'in-copy') return null;
    if (!mustWaitToCopy(info)) return info;
    if (!said) {
      log.info(
        { table, copyRole: info.copyRole, copyPos: info.copyPos },
        info.copyRole === 'wait-copy'
          ? `${table}: waiting for the lead partition's copy to drop the indexes`
          : `${table}: waiting, ${info.copyPos} other partitions copy it (max_parallel_copy)`,
      );
      said = true;
    }
    await sleep(turnPollMs, signal);
  }
  return null;
}

/** The lead's dropped statements, kept until every partition has copied. */
export async function storeDroppedDdl(
  db: pg.ClientBase,
  queue: string,
  table: string,
  ddl: readonly string[],
): Promise<void> {
  if (ddl.length === 0) return;
  await callRet(
    db,
    'select * from londiste.local_set_table_struct($1, $2, $3)',
    [queue, table, ddl.map((s) => `${s};`).join('\n')],
    { queue, table },
  );
}

/**
 * Every partition has copied: the lead re-creates the indexes and constraints it dropped and
 * clears `dropped_ddl`, in one transaction (a failure leaves both as they were).
 */
export async function restoreDroppedDdl(
  db: pg.ClientBase,
  queue: string,
  info: TableInfo,
  log: Logger,
): Promise<void> {
  const ddl = info.droppedDdl;
  if (ddl === null) return;
  log.info(
    { table: info.tableName },
    `${info.tableName}: every partition copied, restoring its indexes`,
  );
  await db.query('begin');
  try {
    await db.query(ddl);
    await callRet(
      db,
      'select * from londiste.local_set_table_struct($1, $2, null)',
      [queue, info.tableName],
      { queue, table: info.tableName },
    );
    await db.query('commit');
  } catch (error) {
    await db.query('rollback').catch(() => {});
    // Typically rows of several partitions with one key: the operator must see which table.
    throw fromDatabaseError(error, {
      action: `restoring the indexes and constraints of ${info.tableName} after every partition copied (dropped_ddl kept; fix the rows, the copy tries again)`,
      queue,
    });
  }
}
