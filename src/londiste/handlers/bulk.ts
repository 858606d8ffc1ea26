/**
 * `bulk` (`method=0|1|2`): each batch's events collapsed per primary key and loaded with COPY
 * and one statement per kind (apply/bulk-loader.ts), for targets where many small statements
 * are slow (warehouses). Event order across keys is not kept, as upstream. Rows come from
 * urlencoded events (`pgq.logutriga`, what add-table installs).
 */
import { fromDatabaseError } from '../../db/database-error.js';
import { SkytoolsError } from '../../errors.js';
import type { Event } from '../../pgq/event.js';
import { BulkLoader } from '../apply/bulk-loader.js';
import { parseRowChange, ShapeCache } from '../apply/row-change.js';
import type { ApplyContext, HandlerFactory, HandlerTable } from '../handler.js';
import { choiceArg } from './args.js';
import type { TruncatingHandler } from './londiste.js';

// Distinct keys buffered at most before they are loaded (a batch may be loaded in parts:
// each part collapsed on its own still ends in the same state).
export const maxBulkKeys = 50_000;

export class BulkHandler implements TruncatingHandler {
  readonly method: string;
  readonly #table: string;
  readonly #shapes = new ShapeCache();
  readonly #loader: BulkLoader;

  constructor(table: HandlerTable) {
    this.method = choiceArg('bulk', table, 'method', ['0', '1', '2'], '0');
    this.#table = table.tableName;
    this.#loader = new BulkLoader(table.tableName, table.destTable, {
      method: this.method as '0' | '1' | '2',
    });
  }

  needsTable(): boolean {
    return true;
  }

  async prepareBatch(): Promise<void> {
    this.#loader.forgetTemp();
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
    this.#loader.add(change.op, change.shape, change.values, event.id);
    if (this.#loader.size >= maxBulkKeys) return this.flush(ctx);
  }

  async flush(ctx: ApplyContext): Promise<void> {
    try {
      await this.#loader.flush(ctx.client);
    } catch (error) {
      if (error instanceof SkytoolsError) throw error;
      throw fromDatabaseError(error, {
        action: `bulk load into ${this.#loader.destSql} (events of ${this.#table})`,
        table: this.#table,
      });
    }
  }

  async truncate(ctx: ApplyContext): Promise<void> {
    await this.flush(ctx);
    await ctx.client.query(`truncate ${this.#loader.destSql} cascade`);
  }

  discard(): void {
    this.#loader.discard();
  }

  copyCondition(): string | null {
    return null;
  }
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
