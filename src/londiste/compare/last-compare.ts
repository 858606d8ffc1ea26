/**
 * The last compare result of a table, kept in the local node's `londiste.table_info.table_attrs`
 * under `last_compare` (`2026-12-07T21:30:00Z equal`, `... differ 12`, `... repaired 12`).
 * There every member's `status` reads it from the node's own database (no file on one
 * machine), `tables` shows it with the other attributes, and upstream's tools, which read
 * only the attributes they know, leave it alone.
 */
import type pg from 'pg';
import { callRet } from '../../cascade/node-calls.js';
import { urldecode, urlencode } from '../../pgq/urlencode.js';

export const lastCompareKey = 'last_compare';

export async function recordLastCompare(
  local: pg.ClientBase,
  queue: string,
  table: string,
  result: string,
  at: Date = new Date(),
): Promise<void> {
  const { rows } = await local.query<{ attrs: string | null }>(
    'select table_attrs as attrs from londiste.table_info where queue_name = $1 and table_name = $2',
    [queue, table],
  );
  const attrs = urldecode(rows[0]?.attrs ?? '');
  attrs.set(lastCompareKey, `${at.toISOString().replace(/\.\d+Z$/, 'Z')} ${result}`);
  await callRet(
    local,
    'select * from londiste.local_set_table_attrs($1, $2, $3)',
    [queue, table, urlencode(attrs)],
    { queue },
  );
}

/** `last_compare` of a table_attrs text, or null. */
export function lastCompare(tableAttrs: string | null): string | null {
  return urldecode(tableAttrs ?? '').get(lastCompareKey) ?? null;
}
