/**
 * compare (basic form, spec §6.10): per local table that is `ok`, a count and a hash sum of
 * the columns both sides have, on the local node and on the node it copies from (its
 * copy_node, else the provider), at one consistent point (compare-sync.ts). The result is
 * the number of tables that differ, which the command makes its exit status, as upstream.
 */
import type pg from 'pg';
import type { AdminSession } from '../../cascade/admin/session.js';
import { CascadeError } from '../../cascade/node-calls.js';
import { createTableHandler, parseHandlerSpec } from '../handlers/registry.js';
import { fqname, globMatcher, isGlob } from '../table-names.js';
import type { TableInfo } from '../table-state.js';
import {
  compareQuery,
  countOnlyFmt,
  defaultCompareFmt,
  formatResult,
  sameResult,
  tableColumns,
} from './compare-query.js';
import { syncPoint } from './compare-sync.js';
import { readTables } from './node-tables.js';

export interface CompareOptions {
  /** Names or globs as stored (`schema.name`); empty = every local table. */
  tables: string[];
  countOnly: boolean;
  force: boolean;
  /** Seconds (lock_timeout). */
  lockTimeout: number;
  compareSql?: string;
  compareFmt?: string;
  extraConnstr?: string;
  /** The handlers' INI keys (the shard handler's copy condition reads its shard). */
  handlerConfig?: Readonly<Record<string, string>>;
}

/** Handlers of `handler_modules` are registered before (the copy conditions are theirs). */
export async function compare(session: AdminSession, options: CompareOptions): Promise<number> {
  const info = await session.localInfo();
  if (info.node_type === 'root' || info.provider_node === null) {
    throw new CascadeError(
      'ROOT_HAS_NO_PROVIDER',
      `node ${info.node_name} is the root of queue ${session.queue}: compare runs on a branch or leaf, against its provider`,
      { queue: session.queue, node: info.node_name },
    );
  }
  const localTables = await tableList(await session.local(), session.queue);
  const lists = new Map<string, Map<string, TableInfo>>();
  const sourceTables = async (node: string) => {
    let list = lists.get(node);
    if (list === undefined) {
      list = await tableList(await session.db(node), session.queue);
      lists.set(node, list);
    }
    return list;
  };
  let differ = 0;
  for (const table of chosenTables(session, localTables, options.tables)) {
    if (!isOk(table)) {
      session.out.warn(`Table ${table.tableName} not synced yet, no point`);
      continue;
    }
    const sourceNode =
      new URLSearchParams(table.tableAttrs ?? '').get('copy_node') ??
      (info.provider_node as string);
    session.out.info(`${table.tableName}: Using node ${sourceNode} as provider`);
    const there = (await sourceTables(sourceNode)).get(table.tableName);
    if (there === undefined || !there.local || !isOk(there)) {
      session.out.warn(`Table ${table.tableName} not synced on node ${sourceNode}, no point`);
      continue;
    }
    if (!(await compareTable(session, options, table, there, sourceNode))) differ++;
  }
  return differ;
}

/** Whether both sides gave the same result. */
async function compareTable(
  session: AdminSession,
  options: CompareOptions,
  table: TableInfo,
  there: TableInfo,
  sourceNode: string,
): Promise<boolean> {
  const name = table.tableName;
  const localRelation = table.destTable ?? name;
  const sourceRelation = there.destTable ?? name;
  const localColumns = new Set(await tableColumns(await session.local(), localRelation));
  const columns = (await tableColumns(await session.db(sourceNode), sourceRelation)).filter((c) =>
    localColumns.has(c),
  );
  const condition = await copyCondition(
    table,
    localRelation,
    await session.local(),
    options.handlerConfig,
  );
  const queryOptions = { countOnly: options.countOnly, compareSql: options.compareSql };
  const sourceSql = compareQuery(sourceRelation, columns, condition, queryOptions);
  const localSql = compareQuery(localRelation, columns, condition, queryOptions);
  const point = await syncPoint(session, {
    table: name,
    sourceRelation,
    sourceNode,
    lockTimeout: options.lockTimeout,
    force: options.force,
    extraConnstr: options.extraConnstr,
  });
  session.out.print(`Counting ${name}`);
  let src: Record<string, unknown>;
  let dst: Record<string, unknown>;
  try {
    [src, dst] = await Promise.all([one(point.source, sourceSql), one(point.local, localSql)]);
  } finally {
    await point.end();
  }
  const format = options.countOnly ? countOnlyFmt : (options.compareFmt ?? defaultCompareFmt);
  session.out.print(`srcdb: ${formatResult(format, src)}`);
  session.out.print(`dstdb: ${formatResult(format, dst)}`);
  if (sameResult(src, dst)) return true;
  session.out.warn(`${name}: Results do not match!`);
  return false;
}

/** The rows a compare counts: those a copy takes, by the table's handler. */
function copyCondition(
  table: TableInfo,
  destTable: string,
  local: pg.ClientBase,
  config: Readonly<Record<string, string>> = {},
): Promise<string | null> {
  const handler = createTableHandler(parseHandlerSpec(table.tableAttrs), {
    tableName: table.tableName,
    destTable,
    config,
  });
  return Promise.resolve(handler.copyCondition(local));
}

/** The local tables named (globs allowed), or all; a name not local is warned about. */
function chosenTables(
  session: AdminSession,
  tables: Map<string, TableInfo>,
  names: string[],
): TableInfo[] {
  const local = [...tables.values()].filter((t) => t.local);
  if (names.length === 0) return local;
  const chosen = new Map<string, TableInfo>();
  for (const word of names) {
    const matches = isGlob(word)
      ? local.filter((t) => globMatcher(word)(t.tableName))
      : local.filter((t) => t.tableName === fqname(word));
    if (matches.length === 0) session.out.warn(`Table not subscribed: ${fqname(word)}`);
    for (const t of matches) chosen.set(t.tableName, t);
  }
  return [...chosen.values()];
}

function isOk(table: TableInfo): boolean {
  return table.mergeState === 'ok' || table.mergeState === '?';
}

async function tableList(db: pg.ClientBase, queue: string): Promise<Map<string, TableInfo>> {
  return new Map((await readTables(db, queue)).map((t) => [t.tableName, t]));
}

async function one(db: pg.ClientBase, sql: string): Promise<Record<string, unknown>> {
  const { rows } = await db.query(sql);
  return rows[0] ?? {};
}
