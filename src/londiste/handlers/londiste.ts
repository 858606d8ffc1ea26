/**
 * The default handler `londiste`: applies the table's I/U/D events (urlencoded rows of
 * logutriga, partial SQL of sqltriga, JSON rows of jsontriga) into the destination table,
 * set-based (see apply/table-applier.ts), and truncates it on `R` unless `ignore_truncate`.
 */
import type pg from 'pg';
import type { Event } from '../../pgq/event.js';
import { isTruncateEvent } from '../apply/row-change.js';
import { type BufferLimits, TableApplier } from '../apply/table-applier.js';
import type { ApplyContext, HandlerFactory, HandlerTable, TableHandler } from '../handler.js';
import { flagArg } from './args.js';

/** A handler that applies truncates itself, after the events before them. */
export interface TruncatingHandler extends TableHandler {
  /** Apply a truncate event of the table (`R`), in order with the buffered events. */
  truncate(ctx: ApplyContext): Promise<void>;
}

export function isTruncatingHandler(handler: TableHandler): handler is TruncatingHandler {
  return typeof (handler as Partial<TruncatingHandler>).truncate === 'function';
}

export class LondisteTableHandler implements TruncatingHandler {
  readonly applier: TableApplier;
  readonly ignoreTruncate: boolean;

  constructor(table: HandlerTable, limits: BufferLimits = {}) {
    this.ignoreTruncate = flagArg('londiste', table, 'ignore_truncate');
    this.applier = new TableApplier(table.tableName, table.destTable, limits);
  }

  needsTable(): boolean {
    return true;
  }

  processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    if (isTruncateEvent(event.type)) return this.truncate(ctx);
    this.applier.add(event);
    if (this.applier.full) return this.flush(ctx);
  }

  async flush(ctx: ApplyContext): Promise<void> {
    if (this.applier.pending > 0) await this.applier.flush(ctx.client);
  }

  async truncate(ctx: ApplyContext): Promise<void> {
    if (this.ignoreTruncate) {
      await this.flush(ctx);
      return;
    }
    await this.applier.truncate(ctx.client);
  }

  /** Drop buffered events: the batch's transaction was rolled back. */
  discard(): void {
    this.applier.discard();
  }

  copyCondition(_local?: pg.ClientBase): string | null | Promise<string | null> {
    return null;
  }
}

export const londisteHandler: HandlerFactory = {
  name: 'londiste',
  description:
    "Default Londiste handler: applies the table's events as they came.\n" +
    'Inserts, updates and deletes of the three trigger formats (urlencoded rows, partial SQL,\n' +
    'JSON rows) are applied in queue order, runs of one kind as one statement; a truncate\n' +
    'becomes TRUNCATE <dest> CASCADE.',
  args: [
    {
      name: 'ignore_truncate',
      description: 'ignore truncate events: 1 or 0',
      default: '0',
    },
  ],
  create: (table) => new LondisteTableHandler(table),
};
