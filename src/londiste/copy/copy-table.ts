/**
 * One table's data from the copy source to the local node (spec §6.4 "Copy steps"): the rows
 * the handler's copy condition selects, read in a REPEATABLE READ transaction of the source
 * whose `txid_current_snapshot()` the catching-up replay then filters with, written in ONE
 * transaction of the destination that also truncates the table, drops and re-creates its
 * indexes around the COPY, analyzes it and runs the caller's state change (`beforeCommit`).
 * A copy killed or failed at any point leaves the table as it was: the destination's
 * transaction never commits, and the worker starts the copy again.
 *
 * The table states and the catching-up replay are the worker's (src/londiste/worker); foreign
 * keys to and from the table are dropped by the worker before the copy (spec §6.8).
 */
import type pg from 'pg';
import { fromDatabaseError } from '../../db/database-error.js';
import { quoteLiteral } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { Logger } from '../../pgq/logger.js';
import type { TableHandler } from '../handler.js';
import { quoteFqname } from '../table-names.js';
import { cancelRunning } from './cancel.js';
import { commonColumns, describeRelation, type RelationInfo } from './columns.js';
import { captureDdl, type DroppedDdl } from './ddl.js';
import { describeProgress, ProgressMeter } from './progress.js';
import { streamCopy } from './stream.js';

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
  /**
   * Drop the indexes and constraints but do not re-create them: the statements that would
   * are in the result's `ddl` (a merge lead stores them and runs them once every partition
   * is copied). Default false.
   */
  deferDdl?: boolean;
  /**
   * COPY format between the servers: `auto` (default) takes binary when both servers are
   * the same major version and every copied column has the same built-in type on both
   * sides, text otherwise; `text` always text.
   */
  format?: 'auto' | 'text';
  /** Rows per second at most (ours: `--copy-rate`); undefined = no limit. */
  rowsPerSecond?: number;
  /**
   * ANALYZE the table before the commit (default true). False leaves it to the caller
   * ({@link analyzeTable} after the commit): the table's state moves on without waiting
   * for its statistics, which nothing in the copy's transaction needs.
   */
  analyze?: boolean;
  log: Logger;
  signal?: AbortSignal;
  onProgress?(progress: CopyProgress): void;
  /**
   * In the local transaction, after the rows are in and the indexes rebuilt, before the
   * commit: the worker's state change (catching-up with the snapshot) commits with the data.
   */
  beforeCommit(
    dest: pg.Client,
    result: { snapshot: string; rows: number; ddl: readonly string[] },
  ): Promise<void>;
}

export interface CopyTableResult {
  /** txid_current_snapshot() of the source's copy transaction. */
  snapshot: string;
  rows: number;
  bytes: number;
  /** The copied columns (names as in the catalog), in the order copied. */
  columns: string[];
  /** The statements that re-created (or, with `deferDdl`, would re-create) what was dropped. */
  ddl: string[];
  /** COPY format used by the default copy; null when the handler copied itself. */
  format: 'text' | 'binary' | null;
}

export async function copyTable(options: CopyTableOptions): Promise<CopyTableResult> {
  const { source, dest, table, destTable, log, signal } = options;
  const aborted = (cause?: unknown) =>
    new SkytoolsError('STOPPED', `copy of ${table} aborted`, { table }, { cause });
  // Between statements: an abort that came while the sessions were idle (its cancel ignored).
  const stopIfAborted = () => {
    if (signal?.aborted) throw aborted();
  };
  stopIfAborted();

  // While a statement runs, an abort cancels it on both servers (an idle session ignores a
  // cancel); the COPY stream handles its own abort.
  // The cancels are awaited before the copy returns: one still on its way would land on
  // whatever the caller runs next on the same session.
  let streaming = false;
  const cancels: Promise<void>[] = [];
  const onAbort = () => {
    if (streaming) return;
    cancels.push(cancelRunning(dest), cancelRunning(source));
  };
  signal?.addEventListener('abort', onAbort);
  let sourceOpen = false;
  let destOpen = false;
  try {
    // Both servers prepare at once (each side is a few round trips); a failure on one side
    // waits for the other, so the rollbacks below know which transaction is open.
    const [destSide, sourceSide] = await Promise.allSettled([
      (async () => {
        await dest.query('begin');
        destOpen = true;
        await replicaRole(dest);
        return lockDestination(dest, destTable, options);
      })(),
      (async () => {
        await source.query('begin transaction isolation level repeatable read');
        sourceOpen = true;
        // The first statement fixes the transaction's snapshot: the COPY reads exactly the rows
        // this snapshot shows, and replay skips the events of the transactions it counts as done.
        const snapshot = await one<{ snapshot: string }>(
          source,
          'select pg_catalog.txid_current_snapshot()::text as snapshot',
        );
        return { snapshot, relation: await describeRelation(source, table, 'source') };
      })(),
    ]);
    if (destSide.status === 'rejected') throw destSide.reason;
    if (sourceSide.status === 'rejected') throw sourceSide.reason;
    const destRelation = destSide.value;
    const { snapshot, relation: sourceRelation } = sourceSide.value;
    const columns = commonColumns(table, sourceRelation, destRelation, log);
    const condition = await options.handler.copyCondition(dest);
    const expectedRows = await expectRows(source, table, sourceRelation, condition);

    // A partitioned table's indexes are templates of its partitions' (pg_get_indexdef says
    // ON ONLY): they stay, as the partitions' own do.
    const ddl: DroppedDdl =
      options.keepDdl || destRelation.kind === 'p'
        ? { drop: [], create: [] }
        : await captureDdl(dest, destTable, destRelation.oid);
    for (const statement of ddl.drop) await dest.query(statement);
    if (!options.skipTruncate) {
      // TRUNCATE ONLY refuses a partitioned table; its partitions are the table's rows.
      const only = destRelation.kind === 'p' ? '' : 'only ';
      await dest.query(`truncate ${only}${quoteFqname(destTable)}`);
    }

    stopIfAborted();
    const meter = new ProgressMeter(table, expectedRows, log, options.onProgress);
    log.info(
      { table, destTable, expectedRows, snapshot: snapshot.snapshot },
      `copy ${table}: started${expectedRows === null ? '' : `, ~${expectedRows} rows`}`,
    );
    let copied: { rows: number; bytes: number; sourceRows?: () => number };
    let format: CopyTableResult['format'] = null;
    if (options.handler.copy) {
      copied = await options.handler.copy({
        source,
        dest,
        columns: columns.quoted,
        log,
        ...(signal ? { signal } : {}),
      });
    } else {
      format = options.format !== 'text' && columns.binary ? 'binary' : 'text';
      const list = columns.quoted.join(', ');
      const query =
        condition === null && sourceRelation.kind === 'r' && !columns.sourceGenerated
          ? `${quoteFqname(table)} (${list})`
          : `(select ${list} from ${sourceRelation.kind === 'p' ? '' : 'only '}${quoteFqname(table)}${
              condition === null ? '' : ` where ${condition}`
            })`;
      const withFormat = format === 'binary' ? ' with (format binary)' : '';
      // Rows of a table truncated in this transaction may be written frozen: no later
      // vacuum has to visit every page of the copied table to freeze it.
      const freeze = !options.skipTruncate && destRelation.kind === 'r';
      const inOptions = [
        ...(format === 'binary' ? ['format binary'] : []),
        ...(freeze ? ['freeze'] : []),
      ];
      const withIn = inOptions.length > 0 ? ` with (${inOptions.join(', ')})` : '';
      streaming = true;
      copied = await streamCopy({
        source,
        dest,
        copyOut: `copy ${query} to stdout${withFormat}`,
        copyIn: `copy ${quoteFqname(destTable)} (${list}) from stdin${withIn}`,
        binary: format === 'binary',
        rowsPerSecond: options.rowsPerSecond,
        signal,
        abortError: () => aborted(),
        onChunk: (rows, bytes) => meter.update(rows, bytes),
      });
      streaming = false;
    }
    // The source's part is done: its snapshot need not be held while indexes build.
    await source.query('commit');
    sourceOpen = false;
    if (copied.sourceRows && copied.sourceRows() !== copied.rows) {
      throw new SkytoolsError(
        'DB_ERROR',
        `copy of ${table}: the source sent ${copied.sourceRows()} rows, the destination took ${copied.rows}`,
        { table },
      );
    }
    const progress = meter.finish(copied.rows, copied.bytes);
    log.info(
      {
        table,
        ...progress,
        rate: Math.round(progress.rate),
        etaSeconds: progress.etaSeconds === null ? null : Math.round(progress.etaSeconds),
        format,
        seconds: round3(meter.elapsed()),
      },
      `copy ${table}: ${describeProgress(progress)}, in ${meter.elapsed().toFixed(1)} s`,
    );

    stopIfAborted();
    if (!options.deferDdl) {
      for (const statement of ddl.create) await dest.query(statement);
    }
    if (options.analyze !== false) await analyzeTable(dest, destTable);
    stopIfAborted();
    await options.beforeCommit(dest, {
      snapshot: snapshot.snapshot,
      rows: copied.rows,
      ddl: ddl.create,
    });
    stopIfAborted();
    await dest.query('commit');
    destOpen = false;
    log.info(
      { table, rows: copied.rows, seconds: round3(meter.elapsed()) },
      `copy ${table}: committed, ${copied.rows} rows in ${meter.elapsed().toFixed(1)} s`,
    );
    return {
      snapshot: snapshot.snapshot,
      rows: copied.rows,
      bytes: copied.bytes,
      columns: columns.names,
      ddl: ddl.create,
      format,
    };
  } catch (error) {
    streaming = true; // no more cancels: the rollbacks must run
    await Promise.all(cancels);
    await Promise.all([
      sourceOpen ? rollback(source) : undefined,
      destOpen ? rollback(dest) : undefined,
    ]);
    if (error instanceof SkytoolsError && error.code === 'STOPPED') throw error;
    if (signal?.aborted) throw aborted(error);
    throw fromDatabaseError(error, { action: `copy of ${table}`, table });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all(cancels);
  }
}

/** ANALYZE of the copied table (its planner statistics). */
export async function analyzeTable(dest: pg.ClientBase, destTable: string): Promise<void> {
  await dest.query(`analyze ${quoteFqname(destTable)}`);
}

async function one<R extends pg.QueryResultRow>(client: pg.ClientBase, text: string): Promise<R> {
  const { rows } = await client.query<R>(text);
  const row = rows[0];
  if (row === undefined) throw new Error(`no row from: ${text}`);
  return row;
}

/**
 * Triggers of the destination table (Londiste's deny trigger on a leaf, a branch's pgq
 * trigger) must stay silent for the copied rows, as for replayed ones: the worker's sessions
 * run as replica; a caller's session that does not gets it for this transaction.
 */
async function replicaRole(dest: pg.ClientBase): Promise<void> {
  const { role } = await one<{ role: string }>(
    dest,
    "select pg_catalog.current_setting('session_replication_role') as role",
  );
  if (role === 'origin') {
    await dest.query("select londiste.set_session_replication_role('replica', true)");
  }
}

/**
 * Lock the destination before looking at it. ACCESS EXCLUSIVE when the copy truncates or
 * drops indexes (both take it anyway; taking it first avoids a lock upgrade); ROW EXCLUSIVE,
 * what COPY takes, for a merge follower, so partitions of one table copy side by side.
 */
async function lockDestination(
  dest: pg.ClientBase,
  destTable: string,
  options: CopyTableOptions,
): Promise<RelationInfo> {
  const { exists } = await one<{ exists: boolean }>(
    dest,
    `select pg_catalog.to_regclass(${quoteLiteral(quoteFqname(destTable))}) is not null as exists`,
  );
  if (!exists) {
    throw new SkytoolsError(
      'MISSING_OBJECT',
      `copy: table ${destTable} does not exist on the destination`,
      { table: destTable, side: 'destination' },
    );
  }
  const mode = options.keepDdl && options.skipTruncate ? 'row exclusive' : 'access exclusive';
  await dest.query(`lock table ${quoteFqname(destTable)} in ${mode} mode`);
  return describeRelation(dest, destTable, 'destination');
}

/** The planner's estimate of the rows the copy reads (relation size and statistics). */
async function expectRows(
  source: pg.ClientBase,
  table: string,
  relation: RelationInfo,
  condition: string | null,
): Promise<number | null> {
  const only = relation.kind === 'p' ? '' : 'only ';
  const where = condition === null ? '' : ` where ${condition}`;
  const { rows } = await source.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(
    `explain (format json) select 1 from ${only}${quoteFqname(table)}${where}`,
  );
  const estimate = rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'];
  return typeof estimate === 'number' && estimate > 0 ? Math.round(estimate) : null;
}

/** ROLLBACK, once more if a cancel meant for the statement before it landed on it. */
async function rollback(client: pg.ClientBase): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query('rollback');
      return;
    } catch (error) {
      // A lost session has rolled back by itself; a cancelled ROLLBACK is tried again.
      if ((error as { code?: string }).code !== '57014' || attempt >= 3) return;
    }
  }
}

/** Seconds in log fields: milliseconds are precision enough. */
function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
