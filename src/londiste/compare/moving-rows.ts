/**
 * The rows of a table that changed between two snapshots of the root, read from the root's
 * own queue: every change of a replicated table is an event there (ev_extra1 = the table),
 * written in the changing transaction, so the events of the transactions visible in the
 * later snapshot and not in the earlier one name exactly the rows that may differ between
 * the two points. Their keys come from the events (logutriga's `I:key` + urlencoded row,
 * jsontriga's `pkey` + JSON row); a truncate or an SQL-fragment event moves the whole table.
 */
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { urldecode } from '../../pgq/urlencode.js';
import type { KeyValue, TableKey } from './table-key.js';

/** The keys that moved, or `whole` when the events do not say which rows. */
export type MovingRows = { kind: 'rows'; keys: KeyValue[] } | { kind: 'whole'; why: string };

/**
 * Events of `table` in `queue` of transactions visible in `later` and not in `earlier`
 * (txid_snapshot texts). Read with a snapshot that sees `later`'s transactions committed.
 */
export async function movingRows(
  db: pg.ClientBase,
  queue: string,
  table: string,
  key: TableKey | null,
  earlier: string,
  later: string,
): Promise<MovingRows> {
  const { rows: q } = await db.query<{ pfx: string }>(
    'select queue_data_pfx as pfx from pgq.queue where queue_name = $1',
    [queue],
  );
  const pfx = q[0]?.pfx;
  if (pfx === undefined) return { kind: 'whole', why: `queue ${queue} not found` };
  // The prefix is pgq's own `schema.table` of the queue's parent event table.
  const relation = pfx.split('.').map(quoteIdent).join('.');
  const { rows } = await db.query<{ ev_type: string | null; ev_data: string | null }>(
    `select ev_type, ev_data from ${relation}
      where ev_extra1 = $1
        and ev_txid >= txid_snapshot_xmin($2::txid_snapshot)
        and ev_txid < txid_snapshot_xmax($3::txid_snapshot)
        and txid_visible_in_snapshot(ev_txid, $3::txid_snapshot)
        and not txid_visible_in_snapshot(ev_txid, $2::txid_snapshot)`,
    [table, earlier, later],
  );
  const seen = new Map<string, KeyValue>();
  if (key === null && rows.length > 0) {
    return { kind: 'whole', why: `${rows.length} changes (no key to name their rows by)` };
  }
  for (const row of rows) {
    const value = eventKey(row.ev_type, row.ev_data, key as TableKey);
    if (value === null) {
      return { kind: 'whole', why: `an event of type ${row.ev_type ?? 'NULL'} names no row` };
    }
    seen.set(JSON.stringify(value), value);
  }
  return { kind: 'rows', keys: [...seen.values()] };
}

/** The key an event's row has, or null when the event does not name one row. */
export function eventKey(type: string | null, data: string | null, key: TableKey): KeyValue | null {
  if (type === null || data === null) return null;
  if (type.startsWith('{')) {
    let row: Record<string, unknown>;
    try {
      const head = JSON.parse(type) as { op?: string };
      if (head.op === 'TRUNCATE') return null;
      row = JSON.parse(data) as Record<string, unknown>;
    } catch {
      // Not JSON after all: the event names no row, which moves the whole table (safe).
      return null;
    }
    return pick(key, (c) => row[c]);
  }
  if (!/^[IUD]:/.test(type)) return null;
  const fields = urldecode(data);
  return pick(key, (c) => fields.get(c));
}

function pick(key: TableKey, get: (column: string) => unknown): KeyValue | null {
  const value: KeyValue = [];
  for (const c of key.columns) {
    const v = get(c);
    if (v === undefined || v === null) return null;
    value.push(typeof v === 'string' ? v : JSON.stringify(v));
  }
  return value;
}
