/**
 * compare (basic form, spec §6.10): per local table that is `ok`, a count and a hash sum of
 * the columns both sides have, on the local node and on the node it copies from (its
 * copy_node, else the provider), at one consistent point (compare-sync.ts). The result is
 * the number of tables that differ, which the command makes its exit status, as upstream.
 */
import type pg from 'pg';
import type { AdminSession } from '../../cascade/admin/session.js';
import { CascadeError } from '../../cascade/node-calls.js';
import { SkytoolsError } from '../../errors.js';
import { recordLastCompare } from '../compare/last-compare.js';
import type { Checksum } from '../compare/ranges.js';
import { CompareState } from '../compare/state-file.js';
import { type SyncPoint, syncPoint } from '../compare/sync-point.js';
import { rangedCompare } from '../compare/table-compare.js';
import { primaryKey, sameKey } from '../compare/table-key.js';
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
  /** `sum` (default: count and sum of a 64-bit row hash) or `md5` (exact). */
  checksum?: Checksum;
  /** Rows per top-level key range (default 1000000). */
  rangeRows?: number;
  /** Pause after each range, ms. */
  throttleMs?: number;
  /** Reuse the finished ranges of an interrupted run from the state file. */
  resume?: boolean;
  /** The state file (default `compare.<queue>.state` in the current directory). */
  stateFile?: string;
  /** repair: write fix.<table>.sql into `dir`, apply with `apply`, rows limited by `where`. */
  repair?: { apply: boolean; dir: string; where?: string };
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
  const state = CompareState.open(
    options.stateFile ?? `compare.${session.queue}.state`,
    session.queue,
    options.resume === true,
    options.stateFile !== undefined,
  );
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
    if (!(await compareTable(session, options, state, table, there, sourceNode))) differ++;
  }
  state.finish();
  return differ;
}

/** Whether both sides gave the same result. */
async function compareTable(
  session: AdminSession,
  options: CompareOptions,
  state: CompareState,
  table: TableInfo,
  there: TableInfo,
  sourceNode: string,
): Promise<boolean> {
  const name = table.tableName;
  const localRelation = table.destTable ?? name;
  const sourceRelation = there.destTable ?? name;
  const local = await session.local();
  const source = await session.db(sourceNode);
  const localColumns = new Set(await tableColumns(local, localRelation));
  const columns = (await tableColumns(source, sourceRelation)).filter((c) => localColumns.has(c));
  const condition = await copyCondition(table, localRelation, local, options.handlerConfig);
  const filter = joinConditions(condition, options.repair?.where ?? null);
  if (options.countOnly || options.compareSql !== undefined) {
    return wholeTable(session, options, {
      name,
      localRelation,
      sourceRelation,
      sourceNode,
      columns,
      filter,
    });
  }
  const here = (await session.localInfo()).node_name ?? 'here';
  const key = await primaryKey(local, localRelation, { table: name, node: here });
  sameKey(await primaryKey(source, sourceRelation, { table: name, node: sourceNode }), key, name);
  const result = await rangedCompare(session, {
    table: name,
    sourceNode,
    sourceRelation,
    localRelation,
    columns,
    key,
    filter,
    checksum: options.checksum ?? 'sum',
    rangeRows: options.rangeRows ?? 1_000_000,
    throttleMs: options.throttleMs ?? 0,
    timeout: options.lockTimeout,
    force: options.force,
    extraConnstr: options.extraConnstr,
    state,
    repair: options.repair && { apply: options.repair.apply, dir: options.repair.dir },
  });
  const format = options.compareFmt ?? defaultCompareFmt;
  session.out.print(
    `srcdb: ${formatResult(format, { cnt: result.src.cnt, chksum: result.src.chk })}`,
  );
  session.out.print(
    `dstdb: ${formatResult(format, { cnt: result.dst.cnt, chksum: result.dst.chk })}`,
  );
  const same = result.diffs.length === 0 && sameResult({ ...result.src }, { ...result.dst });
  let recorded = same ? 'equal' : `differ ${result.diffs.length}`;
  if (!same) {
    session.out.warn(`${name}: Results do not match!`);
    const count = (kind: string) => result.diffs.filter((d) => d.kind === kind).length;
    session.out.info(
      `${name}: ${result.diffs.length} rows differ: ${count('missing')} missing here, ${count('extra')} extra here, ${count('changed')} changed`,
    );
    if (options.repair?.apply) recorded = `repaired ${result.diffs.length}`;
  }
  await recordLastCompare(local, session.queue, name, recorded);
  return same;
}

interface WholeTable {
  name: string;
  localRelation: string;
  sourceRelation: string;
  sourceNode: string;
  columns: string[];
  filter: string | null;
}

/**
 * --count-only and compare_sql: one query over the whole table on each side (upstream's
 * form). A custom query cannot leave rows out, so the point is taken again (a few times)
 * until no row of the table moved while it was taken.
 */
async function wholeTable(
  session: AdminSession,
  options: CompareOptions,
  t: WholeTable,
): Promise<boolean> {
  const queryOptions = { countOnly: options.countOnly, compareSql: options.compareSql };
  const sourceSql = compareQuery(t.sourceRelation, t.columns, t.filter, queryOptions);
  const localSql = compareQuery(t.localRelation, t.columns, t.filter, queryOptions);
  // Without a key, any change while the point is taken moves the whole table.
  const key = await primaryKey(await session.local(), t.localRelation, {
    table: t.name,
    node: 'here',
  }).catch((error: unknown) => {
    if (error instanceof SkytoolsError && error.code === 'NO_PRIMARY_KEY') return null;
    throw error;
  });
  let point: SyncPoint | undefined;
  for (let attempt = 1; ; attempt++) {
    point = await syncPoint(session, {
      table: t.name,
      key,
      sourceNode: t.sourceNode,
      timeout: options.lockTimeout,
      force: options.force,
      extraConnstr: options.extraConnstr,
    });
    const moved = point.moving.kind === 'whole' || point.moving.keys.length > 0;
    if (!moved) break;
    if (attempt >= 5) {
      session.out.warn(
        `${t.name}: rows kept changing while compare took its point; the results may differ by them`,
      );
      break;
    }
    await point.end();
  }
  session.out.print(`Counting ${t.name}`);
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
  session.out.warn(`${t.name}: Results do not match!`);
  return false;
}

function joinConditions(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return `(${a}) and (${b})`;
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
