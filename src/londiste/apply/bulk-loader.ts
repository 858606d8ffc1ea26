/**
 * The bulk load of one destination table (upstream's bulk loader, used by the `bulk`
 * handler and by the dispatch family's `load_mode=bulk`): row changes collapsed per primary
 * key (the last state wins, collapse.ts), then loaded with COPY and one statement per kind.
 *
 * - method 0 (default): inserts COPY'd into the table; updates and deletes COPY'd into the
 *   temp table, then one UPDATE ... FROM and one DELETE ... USING;
 * - method 1: updates as delete + insert: one DELETE of the updated and deleted keys, then
 *   one COPY of the inserted and updated rows;
 * - method 2: inserts merged with updates: both COPY'd into the temp table, then one UPDATE
 *   of the rows that exist and one INSERT of those that do not (no MERGE: PostgreSQL 13);
 * - method 3 (dispatch only): inserts only, COPY'd into the table; any other change refused.
 *
 * The temp table `<schema>_<table>_loadertmp` has the columns of the rows (typed as the
 * destination's) and stays across batches in the session; `analyze` runs ANALYZE on it
 * after each fill (for big loads whose plans need its statistics).
 */
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import { copyField } from '../../pgq/copy-text.js';
import { quoteFqname, splitFqname } from '../table-names.js';
import { type CollapsedRow, CollapsedRows } from './collapse.js';
import { copyLines } from './copy-rows.js';
import type { RowOp, RowShape } from './row-change.js';

export type BulkMethod = '0' | '1' | '2' | '3';

export interface BulkLoaderOptions {
  method: BulkMethod;
  /** ANALYZE the temp table after each fill. */
  analyze?: boolean;
}

export class BulkLoader {
  readonly method: BulkMethod;
  readonly #analyze: boolean;
  readonly #table: string;
  readonly #dest: string;
  readonly #temp: string;
  readonly #rows = new CollapsedRows();
  /** The temp table's columns in this session; null = no temp table; undefined = unknown. */
  #tempColumns: string[] | null | undefined;

  /** `table`: the set's name (for messages); `dest`: the stored name rows go to. */
  constructor(table: string, dest: string, options: BulkLoaderOptions) {
    this.method = options.method;
    this.#analyze = options.analyze === true;
    this.#table = table;
    this.#dest = quoteFqname(dest);
    const { schema, name } = splitFqname(dest);
    this.#temp = quoteIdent(`${schema}_${name}_loadertmp`);
  }

  /** Distinct keys buffered. */
  get size(): number {
    return this.#rows.size;
  }

  get destSql(): string {
    return this.#dest;
  }

  add(op: RowOp, shape: RowShape, values: readonly (string | null)[], eventId: string): void {
    if (this.method === '3' && op !== 'I') {
      throw new SkytoolsError(
        'BAD_EVENT',
        `${op} not supported by method insert: event ${eventId} of ${this.#table} (bulk method 3 loads inserts only)`,
        { table: this.#table, eventId, op },
      );
    }
    if (shape.keyIndexes.length === 0) {
      throw new SkytoolsError(
        'BAD_EVENT',
        `bulk load of ${this.#table}: event ${eventId} names no key columns`,
        { table: this.#table, eventId },
      );
    }
    this.#rows.add(op, shape, values);
  }

  /** The session may be new (a reconnect) or a temp table made in a rolled-back batch gone. */
  forgetTemp(): void {
    this.#tempColumns = undefined;
  }

  /** Drop what is buffered (the batch is rolled back). */
  discard(): void {
    this.#rows.clear();
    this.#tempColumns = undefined;
  }

  /** Load what is buffered, on the caller's session inside its transaction. */
  async flush(client: pg.ClientBase): Promise<void> {
    if (this.#rows.size === 0) return;
    const rows = this.#rows.rows();
    this.#rows.clear();
    const byShape = new Map<string, CollapsedRow[]>();
    for (const row of rows) {
      const list = byShape.get(row.shape.signature);
      if (list === undefined) byShape.set(row.shape.signature, [row]);
      else list.push(row);
    }
    for (const list of byShape.values()) {
      await this.#load(client, (list[0] as CollapsedRow).shape, list);
    }
  }

  async #load(client: pg.ClientBase, shape: RowShape, rows: CollapsedRow[]): Promise<void> {
    const of = (...ops: string[]) => rows.filter((row) => ops.includes(row.op));
    const cols = shape.columns.map(quoteIdent);
    const keys = shape.keyIndexes.map((i) => cols[i] as string);
    const keySet = new Set(keys);
    const match = keys.map((k) => `_ld.${k} = _lt.${k}`).join(' and ');
    const values = cols.filter((c) => !keySet.has(c));
    const update = `update only ${this.#dest} as _ld set ${values
      .map((c) => `${c} = _lt.${c}`)
      .join(', ')} from ${this.#temp} as _lt where ${match}`;
    const remove = `delete from only ${this.#dest} as _ld using ${this.#temp} as _lt where ${match}`;
    const insertMissing = `insert into ${this.#dest} (${cols.join(', ')}) select ${cols
      .map((c) => `_lt.${c}`)
      .join(', ')} from ${this.#temp} as _lt where not exists (select 1 from only ${
      this.#dest
    } as _ld where ${match})`;
    const copyInto = (target: string) => `copy ${target} (${cols.join(', ')}) from stdin`;

    const deletes = this.method === '1' ? of('D', 'U') : of('D');
    if (deletes.length > 0) {
      await this.#fillTemp(client, shape, deletes);
      await client.query(remove);
    }
    if (this.method === '0') {
      const updates = of('U');
      if (updates.length > 0 && values.length > 0) {
        await this.#fillTemp(client, shape, updates);
        await client.query(update);
      }
    }
    if (this.method === '2') {
      const merged = of('U', 'I');
      if (merged.length > 0) {
        await this.#fillTemp(client, shape, merged);
        if (values.length > 0) await client.query(update);
        await client.query(insertMissing);
      }
      return;
    }
    const inserts = this.method === '1' ? of('U', 'I') : of('I');
    if (inserts.length > 0) await copyLines(client, copyInto(this.#dest), lines(inserts));
  }

  /** The temp table with the shape's columns, holding exactly these rows. */
  async #fillTemp(client: pg.ClientBase, shape: RowShape, rows: CollapsedRow[]): Promise<void> {
    const cols = shape.columns.map(quoteIdent);
    if (this.#tempColumns === undefined) this.#tempColumns = await this.#readTemp(client);
    const same =
      this.#tempColumns !== null &&
      this.#tempColumns.length === shape.columns.length &&
      this.#tempColumns.every((c, i) => c === shape.columns[i]);
    if (same) {
      await client.query(`truncate ${this.#temp}`);
    } else {
      await client.query(`drop table if exists pg_temp.${this.#temp}`);
      await client.query(
        `create temp table ${this.#temp} as select ${cols.join(', ')} from only ${this.#dest} where false`,
      );
      this.#tempColumns = [...shape.columns];
    }
    await copyLines(client, `copy ${this.#temp} (${cols.join(', ')}) from stdin`, lines(rows));
    if (this.#analyze) await client.query(`analyze ${this.#temp}`);
  }

  async #readTemp(client: pg.ClientBase): Promise<string[] | null> {
    const { rows } = await client.query<{ columns: string[] | null }>(
      `select case when pg_catalog.to_regclass($1) is null then null else
         array(select a.attname::text from pg_catalog.pg_attribute a
                where a.attrelid = pg_catalog.to_regclass($1) and a.attnum > 0
                  and not a.attisdropped order by a.attnum) end as columns`,
      [`pg_temp.${this.#temp}`],
    );
    return rows[0]?.columns ?? null;
  }
}

function lines(rows: readonly CollapsedRow[]): string[] {
  return rows.map((row) => `${row.values.map(copyField).join('\t')}\n`);
}
