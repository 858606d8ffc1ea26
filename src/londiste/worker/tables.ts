/**
 * The local table list as replay and the copy protocol read it (`londiste.get_table_list`),
 * a table's state change (`londiste.local_set_table_state`), and the table attributes the
 * worker acts on (urlencoded `table_attrs`: `skip_truncate`, `copy_node`,
 * `max_parallel_copy`; `handler` is the registry's).
 */
import type pg from 'pg';
import { callRet } from '../../cascade/node-calls.js';
import {
  destOf,
  parseMergeState,
  type TableInfo,
  tableInfoFromRow,
  tableListSql,
} from '../table-state.js';

export { destOf };

export async function loadTables(db: pg.ClientBase, queue: string): Promise<TableInfo[]> {
  const { rows } = await db.query(tableListSql, [queue]);
  return rows.map(tableInfoFromRow);
}

/** Local tables by name. */
export async function loadLocalTables(
  db: pg.ClientBase,
  queue: string,
): Promise<Map<string, TableInfo>> {
  const tables = await loadTables(db, queue);
  return new Map(tables.filter((t) => t.local).map((t) => [t.tableName, t]));
}

/**
 * The tables a node can be copied from: local and ok there. On a combined root (the queue
 * other queues of the database merge into) also ok in each of those partition queues: the
 * combined table holds the partitions' copied rows only once they have all finished, and a
 * copy taken before would miss rows no event brings (spec §6.9).
 */
export async function copyReadyTables(db: pg.ClientBase, queue: string): Promise<Set<string>> {
  const tables = await loadTables(db, queue);
  const { rows } = await db.query<{ dest: string }>(
    `select distinct coalesce(t.dest_table, t.table_name) as dest
       from pgq_node.node_info n
       join londiste.table_info t on t.queue_name = n.queue_name
      where n.combined_queue = $1 and t.local and t.merge_state is distinct from 'ok'`,
    [queue],
  );
  const partitionsCopying = new Set(rows.map((r) => r.dest));
  return new Set(
    tables
      .filter(
        (t) =>
          t.local &&
          parseMergeState(t.mergeState)?.kind === 'ok' &&
          !partitionsCopying.has(destOf(t)),
      )
      .map((t) => t.tableName),
  );
}

export async function setTableState(
  db: pg.ClientBase,
  queue: string,
  table: string,
  snapshot: string | null,
  state: string | null,
): Promise<void> {
  await callRet(
    db,
    'select * from londiste.local_set_table_state($1, $2, $3, $4)',
    [queue, table, snapshot, state],
    { queue, table },
  );
}

export interface WorkerTableAttrs {
  skipTruncate: boolean;
  copyNode: string | null;
  /** Copies at once at most while this table is one of them; null = parallel_copies alone. */
  maxParallelCopy: number | null;
}

export function workerTableAttrs(text: string | null): WorkerTableAttrs {
  const params = new URLSearchParams(text ?? '');
  const max = params.get('max_parallel_copy');
  const skip = params.get('skip_truncate');
  return {
    skipTruncate: skip !== null && skip !== '' && skip !== '0' && skip !== 'false',
    copyNode: params.get('copy_node') || null,
    maxParallelCopy: max !== null && /^\d+$/.test(max) ? Number(max) : null,
  };
}
