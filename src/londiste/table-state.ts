/**
 * A table's replication state as `londiste.get_table_list` returns it, and the two texts
 * packed into it: `merge_state` (NULL, `in-copy`, `catching-up`, `wanna-sync:<tick>`,
 * `do-sync:<tick>`, `ok`; spec §6.4) and `table_attrs` (urlencoded: `handler`,
 * `skip_truncate`, `copy_node`, `max_parallel_copy`, ...).
 */

export interface TableInfo {
  /** Stored name, `schema.name`. */
  tableName: string;
  local: boolean;
  mergeState: string | null;
  customSnapshot: string | null;
  tableAttrs: string | null;
  droppedDdl: string | null;
  copyRole: string | null;
  copyPos: number;
  /** Where its events are applied; the table itself when null. */
  destTable: string | null;
}

export type TableState =
  | { kind: 'new' }
  | { kind: 'in-copy' }
  | { kind: 'catching-up' }
  | { kind: 'wanna-sync'; tick: string }
  | { kind: 'do-sync'; tick: string }
  | { kind: 'ok' };

/** `merge_state` as a value; `?` (a legacy value) counts as ok; anything else is null. */
export function parseMergeState(text: string | null): TableState | null {
  if (text === null) return { kind: 'new' };
  if (text === 'ok' || text === '?') return { kind: 'ok' };
  if (text === 'in-copy' || text === 'catching-up') return { kind: text };
  const m = /^(wanna-sync|do-sync):(\d+)$/.exec(text);
  if (m) return { kind: m[1] as 'wanna-sync' | 'do-sync', tick: m[2] as string };
  return null;
}

export function formatMergeState(state: TableState): string | null {
  switch (state.kind) {
    case 'new':
      return null;
    case 'wanna-sync':
    case 'do-sync':
      return `${state.kind}:${state.tick}`;
    default:
      return state.kind;
  }
}

/** The columns of get_table_list, in the order of TableInfo. */
export const tableListSql = `select table_name, local, merge_state, custom_snapshot, table_attrs,
  dropped_ddl, copy_role, copy_pos, dest_table from londiste.get_table_list($1)`;

export function tableInfoFromRow(row: Record<string, unknown>): TableInfo {
  return {
    tableName: row.table_name as string,
    local: row.local as boolean,
    mergeState: (row.merge_state as string | null) ?? null,
    customSnapshot: (row.custom_snapshot as string | null) ?? null,
    tableAttrs: (row.table_attrs as string | null) ?? null,
    droppedDdl: (row.dropped_ddl as string | null) ?? null,
    copyRole: (row.copy_role as string | null) ?? null,
    copyPos: Number(row.copy_pos ?? 0),
    destTable: (row.dest_table as string | null) ?? null,
  };
}

/** The local table a table's events are applied to. */
export function destOf(table: TableInfo): string {
  return table.destTable ?? table.tableName;
}
