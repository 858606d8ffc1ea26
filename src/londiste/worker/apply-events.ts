/**
 * The batch's events applied on the local node, shared by the main worker and a copy
 * process: data events to their table's handler (only tables `ok` for the main worker, the
 * one table for a copy), the copy snapshot's events skipped, `R` as TRUNCATE of the
 * destination (unless the handler's ignore_truncate), and counts of what was applied and
 * ignored for the stats line.
 */
import type pg from 'pg';
import type { Event } from '../../pgq/event.js';
import type { ApplyContext } from '../handler.js';
import { parseHandlerSpec } from '../handlers/registry.js';
import { quoteFqname } from '../table-names.js';
import type { TableInfo } from '../table-state.js';
import type { HandlerSet } from './handlers.js';
import type { TxidSnapshot } from './snapshot.js';
import { destOf } from './tables.js';

export interface ApplyCounts {
  applied: number;
  ignored: number;
}

/** A table replay applies, with the snapshot whose events the copied data already holds. */
export interface ReplayTable {
  info: TableInfo;
  snapshot: TxidSnapshot | null;
}

/** Whether the table's handler skips truncates (`ignore_truncate=1`). */
function ignoresTruncate(table: TableInfo): boolean {
  const value = parseHandlerSpec(table.tableAttrs).args.ignore_truncate;
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** TRUNCATE of the table's destination, after every buffered change is applied. */
async function truncate(db: pg.ClientBase, table: TableInfo): Promise<void> {
  if (ignoresTruncate(table)) return;
  await db.query(`truncate ${quoteFqname(destOf(table))} cascade`);
}

/**
 * One data or truncate event of a replayed table. Returns false when the event was skipped
 * (already in the copied data).
 */
export async function applyTableEvent(
  actx: ApplyContext,
  handlers: HandlerSet,
  table: ReplayTable,
  event: Event,
): Promise<boolean> {
  if (table.snapshot?.visible(event.txid)) return false;
  if (event.type === 'R') {
    await handlers.flush(actx);
    await truncate(actx.client, table.info);
    return true;
  }
  await handlers.apply(actx, table.info, event);
  return true;
}
