/**
 * queue_loader's work on a batch: each row event (`I:`, `U:`, `D:` types, urlencoded or JSON
 * rows, the table in ev_extra1) applied to its table in the target database, or to the
 * table's partition in split mode, by the table's row_mode; everything of the batch in one
 * target transaction with the batch's tick (SerialTarget), so exactly once. Other events and
 * tables whose table_mode is `ignore` are skipped and counted as `ignored`.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { fromDatabaseError } from '../../db/database-error.js';
import { quoteQualified } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { Batch, Event } from '../../pgq/index.js';
import type { BatchContext, BatchProcessor } from '../consumer-job.js';
import { isRowEvent, payloadColumns } from '../payload.js';
import { SerialTarget } from '../serial-target.js';
import {
  type DateParts,
  Partitions,
  partitionName,
  partsOfDate,
  partsOfText,
} from './partitions.js';
import {
  bulkStatements,
  type Op,
  type RowChange,
  type Statement,
  statementsFor,
} from './row-ops.js';
import { fqTableName, type QueueLoaderSettings, type TableSettings } from './settings.js';

/** The change an event describes, or null when it is no row event. */
export function rowChange(event: Event): RowChange | null {
  const type = event.type;
  if (type === null || !isRowEvent(type)) return null;
  const pkeys = type
    .slice(2)
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return { op: type[0] as Op, pkeys, row: payloadColumns(event.data), eventId: event.id };
}

interface Pending {
  table: string;
  changes: RowChange[];
}

export class QueueLoadProcessor implements BatchProcessor {
  readonly #target: SerialTarget;
  readonly #partitions = new Partitions();

  constructor(
    private readonly settings: QueueLoaderSettings,
    private readonly log: Logger,
  ) {
    this.#target = new SerialTarget(
      settings.dstDb,
      `queue_loader ${settings.jobName}`,
      settings.connectionLifetime,
      settings.queue,
      settings.consumer,
    );
  }

  async process(batch: Batch, context: BatchContext): Promise<boolean> {
    let outcome: 'applied' | 'skipped';
    try {
      outcome = await this.#target.apply(batch, 'loading events', async (db) => {
        const bulk = new Map<string, Pending>();
        for await (const block of batch.blocks()) {
          if (context.stopNow.aborted) throw new Error('stopped at once');
          for (const event of block) await this.#load(db, batch, event, bulk, context);
        }
        for (const [target, { table, changes }] of bulk) {
          for (const statement of bulkStatements(target, table, changes)) {
            await run(db, statement, `loading ${changes.length} changes into ${table} (bulk)`);
          }
        }
      });
    } catch (error) {
      this.#partitions.forget();
      if (context.stopNow.aborted) return false;
      throw error;
    }
    if (outcome === 'skipped') {
      this.log.info(
        `batch ${batch.id} is in the target already (tick ${batch.info.tickId}): finished only`,
      );
      context.stats.increase('skipped_batches');
    }
    return true;
  }

  async #load(
    db: pg.Client,
    batch: Batch,
    event: Event,
    bulk: Map<string, Pending>,
    context: BatchContext,
  ): Promise<void> {
    const change = rowChange(event);
    const name = event.extra1;
    if (change === null || name === null || name === '') {
      context.stats.increase('ignored');
      return;
    }
    const table = fqTableName(name);
    const settings = this.settings.tables.get(table) ?? this.settings.defaultTable;
    if (settings.mode === 'ignore') {
      context.stats.increase('ignored');
      return;
    }
    const target = await this.#targetTable(db, table, settings, batch, event, change);
    if (settings.rowMode === 'bulk') {
      const pending = bulk.get(target);
      if (pending === undefined) bulk.set(target, { table, changes: [change] });
      else pending.changes.push(change);
      return;
    }
    for (const statement of statementsFor(settings.rowMode, target, table, change)) {
      await run(db, statement, `loading event ${event.id} (${event.type}) into ${table}`);
    }
  }

  /** The quoted table a change goes to: the table itself, or its partition (made if new). */
  async #targetTable(
    db: pg.Client,
    table: string,
    settings: TableSettings,
    batch: Batch,
    event: Event,
    change: RowChange,
  ): Promise<string> {
    const dot = table.indexOf('.');
    const schema = table.slice(0, dot);
    const name = table.slice(dot + 1);
    if (settings.mode === 'direct') return quoteQualified(schema, name);
    let parts: DateParts | null;
    const split = settings.split;
    if (split.kind === 'by-batch-time') parts = partsOfDate(batch.info.tickTime);
    else if (split.kind === 'by-event-time') parts = partsOfText(event.row[1] ?? '');
    else parts = partsOfText(change.row.get(split.field) ?? '');
    if (parts === null) {
      const what =
        split.kind === 'by-date-field'
          ? `its field "${split.field}" (${JSON.stringify(change.row.get(split.field) ?? null)})`
          : 'its time';
      throw new SkytoolsError(
        'BAD_EVENT',
        `event ${event.id} for table ${table} cannot be split by ${what}: no date there`,
        { event: event.id, table },
      );
    }
    const part = partitionName(settings.splitPart, name, parts);
    await this.#partitions.ensure(db, schema, name, part, settings.splitPartTemplate);
    return quoteQualified(schema, part);
  }

  afterBatch(): Promise<void> {
    return this.#target.expire();
  }

  close(): Promise<void> {
    this.#partitions.forget();
    return this.#target.close();
  }
}

async function run(db: pg.Client, statement: Statement, action: string): Promise<void> {
  try {
    await db.query(statement.text, statement.values);
  } catch (error) {
    throw fromDatabaseError(error, { action });
  }
}

export function queueLoaderProcessor(settings: QueueLoaderSettings, log: Logger): BatchProcessor {
  return new QueueLoadProcessor(settings, log);
}
