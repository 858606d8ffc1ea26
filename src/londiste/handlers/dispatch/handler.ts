/**
 * The dispatch family (spec §6.5; upstream's Skytools 3.2 dispatcher, whose 3.12 version is
 * broken, done as its documentation says): the urlencoded row events of a table, their
 * columns filtered (`skip_fields`) and renamed (`fields`), their kinds filtered
 * (`event_types`) and turned by `row_mode` (keep_latest: an update is a delete and an
 * insert; keep_all: updates are inserts, deletes are dropped), go into the destination
 * table (`table_mode=direct`) or into its partition of the period the batch, the event, a
 * date column or the current time falls in (`table_mode=part`, made on demand:
 * partitions.ts), loaded event by event in order (`load_mode=direct`, the default handler's
 * set-based apply) or collapsed per key with COPY (`load_mode=bulk`, the bulk handler's
 * loader, `method` 0..3). `table_mode=ignore` drops every event.
 */

import type pg from 'pg';
import { fromDatabaseError } from '../../../db/database-error.js';
import { quoteIdent } from '../../../db/quote.js';
import { SkytoolsError } from '../../../errors.js';
import type { Event } from '../../../pgq/event.js';
import { urldecode } from '../../../pgq/urlencode.js';
import { BulkLoader } from '../../apply/bulk-loader.js';
import {
  isTruncateEvent,
  type RowOp,
  type RowShape,
  ShapeCache,
  textRowChange,
} from '../../apply/row-change.js';
import { TableApplier } from '../../apply/table-applier.js';
import { describeRelation } from '../../copy/columns.js';
import { streamCopy } from '../../copy/stream.js';
import type {
  ApplyContext,
  CopyContext,
  CopyResult,
  HandlerFactory,
  HandlerTable,
} from '../../handler.js';
import { quoteFqname } from '../../table-names.js';
import { maxBulkKeys } from '../bulk.js';
import type { TruncatingHandler } from '../londiste.js';
import {
  type DispatchConfig,
  dispatchArgs,
  dispatchPresets,
  readDispatchConfig,
} from './config.js';
import { nowTime, Partitions, timeParts } from './partitions.js';

/** Rows of part mode buffered before they are routed and loaded. */
const maxPending = 20_000;

interface Loader {
  readonly size: number;
  add(op: RowOp, shape: RowShape, values: (string | null)[], eventId: string): void;
  flush(client: pg.ClientBase): Promise<unknown>;
  discard(): void;
  forgetTemp?(): void;
}

/** load_mode=direct: the default handler's apply of one destination. */
class DirectLoader implements Loader {
  readonly #applier: TableApplier;
  constructor(table: string, dest: string) {
    this.#applier = new TableApplier(table, dest);
  }
  get size(): number {
    return this.#applier.full ? maxPending : this.#applier.pending;
  }
  add(op: RowOp, shape: RowShape, values: (string | null)[], eventId: string): void {
    this.#applier.addChange(textRowChange(op, shape, values), eventId);
  }
  flush(client: pg.ClientBase): Promise<unknown> {
    return this.#applier.flush(client);
  }
  discard(): void {
    this.#applier.discard();
  }
}

interface PendingRow {
  op: RowOp;
  shape: RowShape;
  values: (string | null)[];
  eventId: string;
  /** The time that picks the partition (timestamptz text, or nowTime). */
  time: string;
}

export class DispatchHandler implements TruncatingHandler {
  readonly config: DispatchConfig;
  readonly #table: string;
  readonly #destTable: string;
  readonly #shapes = new ShapeCache();
  readonly #partitions: Partitions | null;
  /** Loaders by the stored name of the table they load. */
  readonly #loaders = new Map<string, Loader>();
  #pending: PendingRow[] = [];

  constructor(name: string, table: HandlerTable) {
    this.config = readDispatchConfig(name, table);
    this.#table = table.tableName;
    this.#destTable = table.destTable;
    const part = this.config.part;
    this.#partitions = part === null ? null : new Partitions(part, this.config.dest);
  }

  needsTable(): boolean {
    return true;
  }

  sourceRows(): boolean {
    const c = this.config;
    return (
      c.tableMode === 'direct' &&
      c.rowMode === 'plain' &&
      c.eventTypes.size === 3 &&
      c.fieldMap === null &&
      c.skipFields.size === 0 &&
      c.dest === this.#destTable
    );
  }

  async prepareBatch(): Promise<void> {
    // The session may be new: temp tables are looked at again.
    for (const loader of this.#loaders.values()) loader.forgetTemp?.();
  }

  processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    const config = this.config;
    if (config.tableMode === 'ignore') return;
    if (isTruncateEvent(event.type)) return this.truncate(ctx);
    const type = event.type ?? '';
    const op = type[0];
    if (type[1] !== ':' || (op !== 'I' && op !== 'U' && op !== 'D')) {
      throw new SkytoolsError(
        'BAD_EVENT',
        `Unsupported event type: ${type} (event ${event.id} of ${this.#table}; dispatch takes the urlencoded rows of pgq.logutriga)`,
        { table: this.#table, eventId: event.id, type },
      );
    }
    if (!config.eventTypes.has(op)) return;
    const { shape, values } = this.#reshape(ctx, event, type.slice(2));
    const ops: RowOp[] =
      config.rowMode === 'plain'
        ? [op]
        : config.rowMode === 'keep_all'
          ? op === 'D'
            ? []
            : ['I']
          : op === 'U'
            ? ['D', 'I']
            : [op];
    if (ops.length === 0) return;
    if (this.#partitions === null) {
      const loader = this.#loader(config.dest);
      for (const each of ops) loader.add(each, shape, values, event.id);
      if (loader.size >= this.#limit()) return this.flush(ctx);
      return;
    }
    const time = this.#timeOf(ctx, event, shape, values);
    for (const each of ops) {
      this.#pending.push({ op: each, shape, values, eventId: event.id, time });
    }
    if (this.#pending.length >= maxPending) return this.flush(ctx);
  }

  async flush(ctx: ApplyContext): Promise<void> {
    if (this.#pending.length > 0) await this.#route(ctx);
    for (const [dest, loader] of this.#loaders) {
      if (loader.size === 0) continue;
      try {
        await loader.flush(ctx.client);
      } catch (error) {
        if (error instanceof SkytoolsError) throw error;
        throw fromDatabaseError(error, {
          action: `loading events of ${this.#table} into ${dest} (${this.config.loadMode})`,
          table: this.#table,
        });
      }
    }
  }

  async truncate(ctx: ApplyContext): Promise<void> {
    if (this.config.tableMode === 'ignore') return;
    await this.flush(ctx);
    if (this.config.ignoreTruncate) return;
    // Without ONLY: the partitions (inheritance children) go too.
    await ctx.client.query(`truncate ${quoteFqname(this.config.dest)} cascade`);
  }

  discard(): void {
    this.#pending = [];
    for (const loader of this.#loaders.values()) loader.discard();
    this.#partitions?.forget();
  }

  copyCondition(): string | null {
    return this.config.tableMode === 'ignore' ? 'false' : null;
  }

  /** The copy with the columns of `fields` and `skip_fields`, into the destination. */
  async copy(ctx: CopyContext): Promise<CopyResult> {
    const relation = await describeRelation(ctx.source, this.#table, 'source');
    const stored = relation.columns.filter((c) => !c.generated).map((c) => c.name);
    const { fieldMap, skipFields } = this.config;
    const source = stored.filter(
      (name) => !skipFields.has(name) && (fieldMap === null || fieldMap.has(name)),
    );
    if (source.length === 0) {
      throw new SkytoolsError(
        'BAD_INPUT',
        `copy of ${this.#table}: fields and skip_fields leave no column of the source`,
        { table: this.#table },
      );
    }
    const dest = source.map((name) => fieldMap?.get(name) ?? name);
    const only = relation.kind === 'p' ? '' : 'only ';
    const where = this.config.tableMode === 'ignore' ? ' where false' : '';
    const streamed = await streamCopy({
      source: ctx.source,
      dest: ctx.dest,
      copyOut: `copy (select ${source.map(quoteIdent).join(', ')} from ${only}${quoteFqname(
        this.#table,
      )}${where}) to stdout`,
      copyIn: `copy ${quoteFqname(this.config.dest)} (${dest.map(quoteIdent).join(', ')}) from stdin`,
      binary: false,
      signal: ctx.signal,
      abortError: () =>
        new SkytoolsError('STOPPED', `copy of ${this.#table} aborted`, { table: this.#table }),
    });
    return { rows: streamed.rows, bytes: streamed.bytes };
  }

  #limit(): number {
    return this.config.loadMode === 'bulk' ? maxBulkKeys : maxPending;
  }

  #loader(dest: string): Loader {
    let loader = this.#loaders.get(dest);
    if (loader === undefined) {
      loader =
        this.config.loadMode === 'bulk'
          ? new BulkLoader(this.#table, dest, {
              // keep_latest: the key's row may be in no partition yet (its update is the
              // first event of the period), so an update is a delete and an insert.
              method:
                this.config.rowMode === 'keep_latest' && this.config.method === '0'
                  ? '1'
                  : this.config.method,
              analyze: this.config.analyze,
            })
          : new DirectLoader(this.#table, dest);
      this.#loaders.set(dest, loader);
    }
    return loader;
  }

  /** The row with skip_fields and fields applied, and its key's columns renamed alike. */
  #reshape(
    ctx: ApplyContext,
    event: Event,
    keyList: string,
  ): { shape: RowShape; values: (string | null)[] } {
    const { fieldMap, skipFields, encoding } = this.config;
    const data = urldecode(event.data ?? '');
    let columns: string[];
    let values: (string | null)[];
    if (fieldMap !== null) {
      columns = [...fieldMap.values()];
      values = [...fieldMap.keys()].map((name) =>
        skipFields.has(name) ? null : (data.get(name) ?? null),
      );
    } else {
      columns = [];
      values = [];
      for (const [name, value] of data) {
        if (skipFields.has(name)) continue;
        columns.push(name);
        values.push(value);
      }
    }
    let keys = keyList.split(',').filter((k) => k !== '' && !skipFields.has(k));
    if (fieldMap !== null)
      keys = keys.filter((k) => fieldMap.has(k)).map((k) => fieldMap.get(k) as string);
    if (encoding !== null) {
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        if (value === null || value === undefined) continue;
        const clean = encoding.clean(value);
        if (clean !== value) {
          values[i] = clean;
          ctx.log.warn(
            { table: this.#table, eventId: event.id, column: columns[i], encoding: encoding.name },
            `dispatch ${this.#table}: event ${event.id}, column ${columns[i]}: characters ${encoding.name} cannot hold replaced`,
          );
        }
      }
    }
    const signature = `${keys.join(',')}\u0002${columns.join('\u0001')}`;
    const shape = this.#shapes.shape(signature, false, () => ({ columns, key: keys }));
    return { shape, values };
  }

  #timeOf(ctx: ApplyContext, event: Event, shape: RowShape, values: (string | null)[]): string {
    const part = this.config.part;
    switch (part?.mode) {
      case 'batch_time':
        return ctx.tickTime?.toISOString() ?? nowTime;
      case 'event_time':
        return event.row[1] ?? nowTime;
      case 'date_field': {
        const field = part.field as string;
        const at = shape.columns.indexOf(field);
        const value = at < 0 ? null : values[at];
        if (value === null || value === undefined || value.trim() === '') {
          throw new SkytoolsError(
            'BAD_EVENT',
            `part_field(${field}) is NULL: event ${event.id} of ${this.#table}`,
            { table: this.#table, eventId: event.id, field },
          );
        }
        return value;
      }
      default:
        return nowTime;
    }
  }

  /** The pending rows into the loaders of their partitions, partitions made as needed. */
  async #route(ctx: ApplyContext): Promise<void> {
    const partitions = this.#partitions as Partitions;
    const pending = this.#pending;
    this.#pending = [];
    const times = [...new Set(pending.map((row) => row.time))];
    const parts = await timeParts(ctx.client, times, (time) => `time ${JSON.stringify(time)}`);
    const partOf = new Map<string, string>();
    const partTime = new Map<string, string>();
    for (const time of times) {
      const name = partitions.name(parts.get(time) as NonNullable<ReturnType<typeof parts.get>>);
      partOf.set(time, name);
      if (!partTime.has(name)) partTime.set(name, time);
    }
    const first = pending[0] as PendingRow;
    const pkeys = first.shape.keyIndexes.map((i) => first.shape.columns[i] as string);
    const dropped = await partitions.ensure(ctx.client, partTime, pkeys, ctx.log);
    for (const row of pending) {
      const part = partOf.get(row.time) as string;
      if (dropped.has(part)) continue;
      this.#loader(part).add(row.op, row.shape, row.values, row.eventId);
    }
  }
}

function describe(name: string, preset: Readonly<Record<string, string>>): string {
  const words = Object.entries(preset).map(([k, v]) => `${k}=${v}`);
  const first =
    name === 'dispatch'
      ? 'Dispatch: rows into per-period partitions (or one table), columns filtered and renamed.'
      : `Dispatch preset: ${words.join(', ')}.`;
  return (
    `${first}\n` +
    'table_mode part|direct|ignore; part_mode batch_time|event_time|date_field|current_time;\n' +
    'period hour|day|month|year; row_mode plain|keep_latest|keep_all; load_mode direct|bulk;\n' +
    'partitions made on demand by part_template or part_func, old ones dropped by retention_period.'
  );
}

/** Every handler of the family, with its name's presets under the arguments given. */
export const dispatchHandlers: HandlerFactory[] = [...dispatchPresets()].map(([name, preset]) => ({
  name,
  description: describe(name, preset),
  args: dispatchArgs,
  create: (table: HandlerTable) =>
    new DispatchHandler(name, { ...table, args: { ...preset, ...table.args } }),
}));
