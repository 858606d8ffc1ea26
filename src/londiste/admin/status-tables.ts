/**
 * The tables of one node as status and wait-sync show them: each table's state, its size
 * here (what a copy from this node is measured against), and for a table whose COPY runs
 * into this node right now, the server's own progress (`pg_stat_progress_copy`, PostgreSQL
 * 14 and later) with the time the COPY has run, so rate and ETA come from the server, not
 * from a second sample.
 */
import type pg from 'pg';
import { formatLag } from '../../cascade/admin/node-status.js';
import { lastCompare } from '../compare/last-compare.js';
import { parseMergeState, type TableState } from '../table-state.js';

export interface CopyProgress {
  rows: number;
  bytes: number;
  /** Seconds since the COPY statement started. */
  seconds: number;
}

export interface NodeTable {
  name: string;
  local: boolean;
  /** null: a merge_state this version does not know (shown as it is). */
  state: TableState | null;
  mergeState: string | null;
  /** The node a copy takes the table from when not the provider (`copy_node` attribute). */
  copyNode: string | null;
  /** Rows as the planner estimates them (reltuples), null when never analyzed or absent. */
  estimatedRows: number | null;
  /** pg_table_size of the table here, null when absent. */
  sizeBytes: number | null;
  copy: CopyProgress | null;
  /** The last compare or repair run here (`last_compare` attribute), null when none. */
  lastCompare: string | null;
}

export interface NodeTables {
  /** false: no londiste schema on this node (a plain cascade member). */
  installed: boolean;
  tables: NodeTable[];
}

const installedSql = `select to_regclass('londiste.table_info') is not null as installed,
  current_setting('server_version_num')::int >= 140000 as has_progress`;

// The table's relation here is its dest table when it has one; names are stored unquoted.
const tablesSql = `with t as (
    select table_name, local, merge_state, table_attrs,
           to_regclass(format('%I.%I', split_part(coalesce(dest_table, table_name), '.', 1),
             substr(coalesce(dest_table, table_name),
                    strpos(coalesce(dest_table, table_name), '.') + 1))) as rel
      from londiste.get_table_list($1))
  select t.table_name, t.local, t.merge_state, t.table_attrs, t.rel::oid::int8 as relid,
         case when c.reltuples >= 0 then c.reltuples::float8 end as reltuples,
         case when t.rel is not null then pg_table_size(t.rel)::float8 end as size
    from t left join pg_class c on c.oid = t.rel
   order by t.table_name`;

const progressSql = `select p.relid::int8 as relid, p.tuples_processed::float8 as rows,
       p.bytes_processed::float8 as bytes,
       extract(epoch from clock_timestamp() - a.query_start)::float8 as seconds
  from pg_stat_progress_copy p join pg_stat_activity a on a.pid = p.pid
 where p.datid = (select oid from pg_database where datname = current_database())
   and p.command = 'COPY FROM'`;

export async function readNodeTables(db: pg.ClientBase, queue: string): Promise<NodeTables> {
  const flags = (await db.query<{ installed: boolean; has_progress: boolean }>(installedSql))
    .rows[0];
  if (!flags?.installed) return { installed: false, tables: [] };
  const { rows } = await db.query<{
    table_name: string;
    local: boolean;
    merge_state: string | null;
    table_attrs: string | null;
    relid: string | null;
    reltuples: number | null;
    size: number | null;
  }>(tablesSql, [queue]);
  const copies = new Map<string, CopyProgress>();
  if (flags.has_progress && rows.some((r) => r.local && r.merge_state !== 'ok')) {
    const progress = await db.query<CopyProgress & { relid: string }>(progressSql);
    for (const p of progress.rows) {
      copies.set(p.relid, { rows: p.rows, bytes: p.bytes, seconds: Math.max(0, p.seconds) });
    }
  }
  return {
    installed: true,
    tables: rows.map((r) => ({
      name: r.table_name,
      local: r.local,
      state: parseMergeState(r.merge_state),
      mergeState: r.merge_state,
      copyNode: new URLSearchParams(r.table_attrs ?? '').get('copy_node'),
      estimatedRows: r.reltuples,
      sizeBytes: r.size,
      copy: r.relid !== null && r.local ? (copies.get(r.relid) ?? null) : null,
      lastCompare: lastCompare(r.table_attrs),
    })),
  };
}

/** Whether a table counts as in sync (ok, or the legacy `?`). */
export function isOk(table: NodeTable): boolean {
  return table.state?.kind === 'ok';
}

/** upstream's `Tables: ok/half/ignored`: local ok, local not ok, in the set but not local. */
export function tablesSummary(tables: readonly NodeTable[]): string {
  const ok = tables.filter((t) => t.local && isOk(t)).length;
  const half = tables.filter((t) => t.local && !isOk(t)).length;
  const ignored = tables.filter((t) => !t.local).length;
  return `Tables: ${ok}/${half}/${ignored}`;
}

/** What the copy source holds of the table: the measure of a copy's progress. */
export interface SourceSize {
  rows: number | null;
  bytes: number | null;
}

/**
 * One table not in sync: `public.t2: in-copy, 45,000 of ~100,000 rows (45%), 2.1 MB,
 * 9,000 rows/s, ETA 6s`. Percent from the source's row estimate, or from its size when it
 * was never analyzed (the COPY's text is about as big as the table on disk).
 */
export function tableLine(table: NodeTable, source: SourceSize | undefined): string {
  const state = table.state === null ? (table.mergeState ?? '') : stateWord(table.state);
  if (table.state?.kind === 'ok')
    return `${table.name}: ${state}, last compare ${table.lastCompare}`;
  const copy = table.copy;
  if (copy === null) {
    const waiting = table.state?.kind === 'new' ? ' (waiting for a copy slot)' : '';
    return `${table.name}: ${state}${waiting}`;
  }
  const parts = [`${table.name}: ${state}`];
  const rowsTotal = source?.rows ?? null;
  const bytesTotal = source?.bytes ?? null;
  let fraction: number | null = null;
  if (rowsTotal !== null && rowsTotal > 0) {
    parts.push(`${count(copy.rows)} of ~${count(rowsTotal)} rows`);
    fraction = copy.rows / rowsTotal;
  } else {
    parts.push(`${count(copy.rows)} rows`);
    if (bytesTotal !== null && bytesTotal > 0) fraction = copy.bytes / bytesTotal;
  }
  if (fraction !== null)
    parts[parts.length - 1] += ` (${Math.min(99, Math.floor(fraction * 100))}%)`;
  parts.push(
    bytesTotal !== null ? `${size(copy.bytes)} of ~${size(bytesTotal)}` : size(copy.bytes),
  );
  if (copy.seconds > 0 && copy.rows > 0) {
    const rate = copy.rows / copy.seconds;
    parts.push(`${count(Math.round(rate))} rows/s`);
    if (fraction !== null && fraction > 0 && fraction < 1) {
      parts.push(`ETA ${formatLag((copy.seconds * (1 - fraction)) / fraction)}`);
    }
  }
  return parts.join(', ');
}

function stateWord(state: TableState): string {
  return state.kind === 'wanna-sync' || state.kind === 'do-sync'
    ? `${state.kind}:${state.tick}`
    : state.kind;
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function size(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
