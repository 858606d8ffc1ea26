/**
 * Applies the data events of one table, set-based: events are buffered in queue order and,
 * at each flush, every run of consecutive events of one kind and one column layout becomes
 * one statement (a run is cut where an UPDATE's key repeats, so a statement never touches a
 * row twice): a COPY for inserts of text rows, else INSERT/UPDATE/DELETE over the run's
 * rows. Consecutive partial-SQL events of sqltriga go as one multi-statement query.
 *
 * The result is the one of applying the events one by one: runs keep queue order; a
 * multi-row INSERT or DELETE does what its rows would do one after another. Only a
 * multi-row UPDATE can fail where the single rows would not (a unique index on another
 * column whose values the rows swap), so where the table has such an index it runs under a
 * savepoint and, when it fails, is applied again row by row in queue order.
 */
import pg from 'pg';
import { fromDatabaseError } from '../../db/database-error.js';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import { copyField } from '../../pgq/copy-text.js';
import type { Event } from '../../pgq/event.js';
import { quoteFqname } from '../table-names.js';
import {
  arrayElement,
  copyStatement,
  missingColumns,
  partialSql,
  runStatement,
} from './apply-sql.js';
import { copyLines } from './copy-rows.js';
import { type DestTable, loadDestTable, updateMayConflict } from './dest-columns.js';
import { rawCopyLine } from './encoded-line.js';
import {
  parseRowChange,
  type RowChange,
  type RowOp,
  type RowShape,
  ShapeCache,
} from './row-change.js';

/** When a buffer is applied before the flush the worker asks for. */
export interface BufferLimits {
  /** Events (default 20,000). */
  maxEvents?: number;
  /** Bytes of row text (default 16 MB). */
  maxBytes?: number;
}

interface RowRun {
  kind: 'row';
  op: RowOp;
  shape: RowShape;
  /** JSON rows as they came (JSON shapes), else empty. */
  rows: string[];
  /** Per column, its text[] literal elements (updates and deletes of text shapes). */
  columns: string[][];
  /** COPY text lines (inserts of text shapes). */
  lines: string[] | null;
  ids: string[];
  /** Keys of an UPDATE run, to cut the run where one repeats. */
  keys: Set<string> | null;
}

interface SqlRun {
  kind: 'sql';
  statements: string[];
  ids: string[];
}

type Run = RowRun | SqlRun;

const savepoint = 'londiste_apply_run';

// Inserts become COPY lines without decoding each value first.
const encodedInserts = { encodedInserts: true };

export class TableApplier {
  readonly #table: string;
  readonly #dest: string;
  readonly #destSql: string;
  readonly #shapes = new ShapeCache();
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  #destInfo: DestTable | null = null;
  /** Multi-row UPDATEs that failed and were applied again row by row (for stats and tests). */
  rowByRowRetries = 0;
  #runs: Run[] = [];
  #events = 0;
  #bytes = 0;

  /** `table`: the set's name; `dest`: where rows go (stored `schema.name` form). */
  constructor(table: string, dest: string, limits: BufferLimits = {}) {
    this.#table = table;
    this.#dest = dest;
    this.#destSql = quoteFqname(dest);
    this.#maxEvents = limits.maxEvents ?? 20_000;
    this.#maxBytes = limits.maxBytes ?? 16 * 1024 * 1024;
  }

  get destSql(): string {
    return this.#destSql;
  }

  /** Events waiting for a flush. */
  get pending(): number {
    return this.#events;
  }

  /** Whether the buffer reached its limits (the caller flushes). */
  get full(): boolean {
    return this.#events >= this.#maxEvents || this.#bytes >= this.#maxBytes;
  }

  /**
   * Buffer one data event; a truncate is refused here (the handler applies it in order,
   * after a flush).
   */
  add(event: Event): void {
    this.addChange(parseRowChange(event, this.#shapes, encodedInserts), event.id);
  }

  /**
   * Buffer one change already parsed (a handler that reshapes rows first, e.g. dispatch's
   * column map, makes them with textRowChange); `eventId` names it in errors.
   */
  addChange(change: RowChange, eventId: string): void {
    const event = { id: eventId };
    if (change.kind === 'truncate') {
      throw new SkytoolsError('BAD_EVENT', 'a truncate event is applied by truncate()', {
        eventId: event.id,
      });
    }
    const last = this.#runs[this.#runs.length - 1];
    this.#events++;
    if (change.kind === 'sql') {
      const sql = partialSql(change.op, this.#destSql, change.sql);
      this.#bytes += sql.length;
      if (last?.kind === 'sql') {
        last.statements.push(sql);
        last.ids.push(event.id);
      } else {
        this.#runs.push({ kind: 'sql', statements: [sql], ids: [event.id] });
      }
      return;
    }
    this.#bytes += change.size;
    if (
      last?.kind === 'row' &&
      last.op === change.op &&
      last.shape === change.shape &&
      (last.keys === null || !last.keys.has(change.key))
    ) {
      addRow(last, change.values, change.json, change.encoded);
      last.ids.push(event.id);
      last.keys?.add(change.key);
      return;
    }
    if (change.op !== 'I' && change.shape.keyIndexes.length === 0) {
      throw new SkytoolsError(
        'BAD_EVENT',
        `cannot apply event ${event.id}: ${change.op === 'U' ? 'update' : 'delete'} without key columns on table ${this.#table}`,
        { eventId: event.id, table: this.#table },
      );
    }
    const run: RowRun = {
      kind: 'row',
      op: change.op,
      shape: change.shape,
      rows: [],
      columns: change.shape.json || change.op === 'I' ? [] : change.shape.columns.map(() => []),
      lines: !change.shape.json && change.op === 'I' ? [] : null,
      ids: [event.id],
      keys: change.op === 'U' ? new Set([change.key]) : null,
    };
    addRow(run, change.values, change.json, change.encoded);
    this.#runs.push(run);
  }

  /** Drop what is buffered (the batch is being rolled back). */
  discard(): void {
    this.#runs = [];
    this.#events = 0;
    this.#bytes = 0;
  }

  /** Apply what is buffered, in queue order, on `client` (inside the batch's transaction). */
  async flush(client: pg.ClientBase): Promise<number> {
    const runs = this.#runs;
    const count = this.#events;
    this.discard();
    for (const run of runs) {
      if (run.kind === 'sql') await this.#applySql(client, run);
      else await this.#applyRows(client, run);
    }
    return count;
  }

  /** `TRUNCATE <dest> CASCADE`, after the buffered events. */
  async truncate(client: pg.ClientBase): Promise<void> {
    await this.flush(client);
    try {
      await client.query(`truncate ${this.#destSql} cascade`);
    } catch (error) {
      throw this.#failure(error, 'truncating', []);
    }
  }

  async #applySql(client: pg.ClientBase, run: SqlRun): Promise<void> {
    try {
      await client.query(run.statements.join(';\n'));
    } catch (error) {
      throw this.#failure(error, 'applying partial SQL events', run.ids);
    }
  }

  async #applyRows(client: pg.ClientBase, run: RowRun): Promise<void> {
    const dest = await this.#destFor(client, run.shape, run.ids);
    if (run.lines !== null) {
      try {
        await copyLines(client, copyStatement(this.#destSql, run.shape), run.lines);
      } catch (error) {
        throw this.#failure(error, 'applying insert events', run.ids);
      }
      return;
    }
    const statement = runStatement(run.op, this.#destSql, run.shape, dest.columns);
    const many =
      run.op === 'U' &&
      run.ids.length > 1 &&
      updateMayConflict(
        dest,
        run.shape.keyIndexes.map((i) => run.shape.columns[i] as string),
      );
    if (!many) {
      try {
        await client.query({ ...statement, values: runValues(run) });
      } catch (error) {
        throw this.#failure(error, `applying ${opName[run.op]} events`, run.ids);
      }
      return;
    }
    await client.query(`savepoint ${savepoint}`);
    try {
      await client.query({ ...statement, values: runValues(run) });
      await client.query(`release savepoint ${savepoint}`);
      return;
    } catch (error) {
      // Only a refusal by the server is worth the row-by-row try; a lost session is not.
      if (!(error instanceof pg.DatabaseError))
        throw this.#failure(error, 'applying update events', run.ids);
      await client.query(`rollback to savepoint ${savepoint}`);
      await client.query(`release savepoint ${savepoint}`);
      this.rowByRowRetries++;
    }
    // The rows one by one, in queue order: what the source did, so it succeeds where the
    // set failed only because its rows met in an order the source never had.
    for (let i = 0; i < run.ids.length; i++) {
      try {
        await client.query({ ...statement, values: runValues(run, i) });
      } catch (error) {
        throw this.#failure(error, `applying ${opName[run.op]} event`, [run.ids[i] as string]);
      }
    }
  }

  async #destFor(client: pg.ClientBase, shape: RowShape, ids: string[]): Promise<DestTable> {
    let dest = this.#destInfo;
    if (dest === null || missingColumns(shape, dest.columns).length > 0) {
      // First use, or a column added since (an EXECUTE between events): read them again.
      try {
        dest = await loadDestTable(client, this.#dest);
      } catch (error) {
        throw this.#failure(error, 'reading the destination columns', ids);
      }
      this.#destInfo = dest;
    }
    const missing = missingColumns(shape, dest.columns);
    if (missing.length > 0) {
      throw new SkytoolsError(
        'UNKNOWN_COLUMN',
        `column ${missing.map(quoteIdent).join(', ')} of table ${this.#dest} does not exist (events of ${this.#table}: ${idRange(ids)})`,
        { table: this.#table, destTable: this.#dest, columns: missing, events: idRange(ids) },
      );
    }
    return dest;
  }

  #failure(error: unknown, action: string, ids: string[]): SkytoolsError {
    if (error instanceof SkytoolsError) return error;
    const events = ids.length === 0 ? '' : ` (events ${idRange(ids)})`;
    return fromDatabaseError(error, {
      action: `${action} of table ${this.#table}${events}`,
      table: this.#table,
      destTable: this.#dest,
      ...(ids.length > 0 ? { events: idRange(ids) } : {}),
    });
  }
}

function addRow(
  run: RowRun,
  values: (string | null)[] | null,
  json: string | null,
  encoded: string | null | undefined,
): void {
  if (json !== null) {
    run.rows.push(json);
    return;
  }
  if (encoded !== null && encoded !== undefined) {
    // Only inserts come encoded, and a run of inserts of text rows is a COPY.
    (run.lines as string[]).push(rawCopyLine(encoded));
    return;
  }
  const row = values as (string | null)[];
  if (run.lines !== null) {
    let line = copyField(row[0] ?? null);
    for (let i = 1; i < row.length; i++) line += `\t${copyField(row[i] ?? null)}`;
    run.lines.push(`${line}\n`);
    return;
  }
  const columns = run.columns;
  for (let i = 0; i < columns.length; i++)
    (columns[i] as string[]).push(arrayElement(row[i] ?? null));
}

/** The statement's parameters for the run, or for its row `only`. */
function runValues(run: RowRun, only?: number): string[] {
  if (run.shape.json) {
    return [only === undefined ? `[${run.rows.join(',')}]` : `[${run.rows[only] as string}]`];
  }
  return run.columns.map((elements) =>
    only === undefined ? `{${elements.join(',')}}` : `{${elements[only] as string}}`,
  );
}

const opName: Record<RowOp, string> = { I: 'insert', U: 'update', D: 'delete' };

function idRange(ids: readonly string[]): string {
  if (ids.length === 1) return ids[0] as string;
  return `${ids[0]}..${ids[ids.length - 1]} (${ids.length})`;
}
