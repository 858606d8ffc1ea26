/**
 * `bulk` (`method=0|1|2`): each batch's events collapsed per primary key (the last state
 * wins, apply/collapse.ts), then loaded with COPY and one statement per kind, for targets
 * where many small statements are slow (warehouses). Event order across keys is not kept,
 * as upstream. Rows come from urlencoded events (`pgq.logutriga`, what add-table installs).
 *
 * - method 0 (default): inserts COPY'd into the table; updates and deletes COPY'd into the
 *   temp table, then one UPDATE ... FROM and one DELETE ... USING;
 * - method 1: updates as delete + insert: one DELETE of the updated and deleted keys, then
 *   one COPY of the inserted and updated rows;
 * - method 2: inserts merged with updates: both COPY'd into the temp table, then one UPDATE
 *   of the rows that exist and one INSERT of those that do not (no MERGE: PostgreSQL 13).
 *
 * The temp table `<schema>_<table>_loadertmp` has the columns of the events (typed as the
 * destination's) and stays across batches in the worker's session.
 */
import type pg from 'pg';
import { fromDatabaseError } from '../../db/database-error.js';
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import { copyField } from '../../pgq/copy-text.js';
import type { Event } from '../../pgq/event.js';
import { type CollapsedRow, CollapsedRows } from '../apply/collapse.js';
import { copyLines } from '../apply/copy-rows.js';
import { parseRowChange, type RowShape, ShapeCache } from '../apply/row-change.js';
import type { ApplyContext, HandlerFactory, HandlerTable } from '../handler.js';
import { quoteFqname, splitFqname } from '../table-names.js';
import { choiceArg } from './args.js';
import type { TruncatingHandler } from './londiste.js';

// Distinct keys buffered at most before they are loaded (a batch may be loaded in parts:
// each part collapsed on its own still ends in the same state).
const maxKeys = 50_000;

type Method = '0' | '1' | '2';

export class BulkHandler implements TruncatingHandler {
  readonly method: Method;
  readonly #table: string;
  readonly #dest: string;
  readonly #temp: string;
  readonly #shapes = new ShapeCache();
  readonly #rows = new CollapsedRows();
  /** The temp table's columns in this session; null = no temp table; undefined = unknown. */
  #tempColumns: string[] | null | undefined;

  constructor(table: HandlerTable) {
    this.method = choiceArg('bulk', table, 'method', ['0', '1', '2'], '0');
    this.#table = table.tableName;
    this.#dest = quoteFqname(table.destTable);
    const { schema, name } = splitFqname(table.destTable);
    this.#temp = quoteIdent(`${schema}_${name}_loadertmp`);
  }

  needsTable(): boolean {
    return true;
  }

  async prepareBatch(ctx: ApplyContext): Promise<void> {
    // The session may be new (a reconnect), or the table made in a batch rolled back.
    const { rows } = await ctx.client.query<{ columns: string[] | null }>(
      `select case when pg_catalog.to_regclass($1) is null then null else
         array(select a.attname::text from pg_catalog.pg_attribute a
                where a.attrelid = pg_catalog.to_regclass($1) and a.attnum > 0
                  and not a.attisdropped order by a.attnum) end as columns`,
      [`pg_temp.${this.#temp}`],
    );
    this.#tempColumns = rows[0]?.columns ?? null;
  }

  processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    const change = parseRowChange(event, this.#shapes);
    if (change.kind !== 'row' || change.values === null) {
      throw new SkytoolsError(
        'BAD_EVENT',
        `bulk handler of ${this.#table}: event ${event.id} (${event.type}) is not an urlencoded row; bulk loads the events of pgq.logutriga only`,
        { table: this.#table, eventId: event.id, type: event.type },
      );
    }
    if (change.shape.keyIndexes.length === 0) {
      throw new SkytoolsError(
        'BAD_EVENT',
        `bulk handler of ${this.#table}: event ${event.id} names no key columns (${event.type})`,
        { table: this.#table, eventId: event.id, type: event.type },
      );
    }
    this.#rows.add(change.op, change.shape, change.values);
    if (this.#rows.size >= maxKeys) return this.flush(ctx);
  }

  async flush(ctx: ApplyContext): Promise<void> {
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
      const shape = (list[0] as CollapsedRow).shape;
      try {
        await this.#load(ctx.client, shape, list);
      } catch (error) {
        throw fromDatabaseError(error, {
          action: `bulk load into ${this.#dest} (events of ${this.#table})`,
          table: this.#table,
        });
      }
    }
  }

  async truncate(ctx: ApplyContext): Promise<void> {
    await this.flush(ctx);
    await ctx.client.query(`truncate ${this.#dest} cascade`);
  }

  discard(): void {
    this.#rows.clear();
    this.#tempColumns = undefined;
  }

  copyCondition(): string | null {
    return null;
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
    const same =
      this.#tempColumns !== null &&
      this.#tempColumns !== undefined &&
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
  }
}

function lines(rows: readonly CollapsedRow[]): string[] {
  return rows.map((row) => `${row.values.map(copyField).join('\t')}\n`);
}

export const bulkHandler: HandlerFactory = {
  name: 'bulk',
  description:
    'Bulk loading: each batch collapsed per key, loaded with COPY.\n' +
    'The last state of each primary key wins; inserts, updates and deletes are each one\n' +
    'statement (COPY where it can), event order across keys is not kept. method=0: updates\n' +
    'and deletes through the temp table <schema>_<table>_loadertmp; method=1: updates as\n' +
    'delete + insert; method=2: inserts merged with updates (update what exists, insert the rest).',
  args: [{ name: 'method', description: 'load method: 0, 1 or 2', default: '0' }],
  create: (table) => new BulkHandler(table),
};
