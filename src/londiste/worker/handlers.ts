/**
 * The handlers of the tables a batch touches: made once per table (and again when its
 * attributes change), prepared before the table's first event of a batch, flushed before any
 * event whose order matters across tables and at the batch's end, finished last. A handler
 * that cannot be made (unknown name or argument in table_attrs) fails the batch with one line
 * naming the table: nothing of it is applied, and it comes again.
 */
import { SkytoolsError } from '../../errors.js';
import type { ApplyContext, TableHandler } from '../handler.js';
import { createTableHandler, parseHandlerSpec } from '../handlers/registry.js';
import type { TableInfo } from '../table-state.js';
import { destOf } from './tables.js';

interface Made {
  key: string;
  handler: TableHandler;
}

export class HandlerSet {
  readonly #made = new Map<string, Made>();
  /** Handlers with events in the batch in hand, in first-use order. */
  #used: TableHandler[] = [];
  /** Handlers with buffered events since the last flush. */
  #dirty = new Set<TableHandler>();

  /** The table's handler, made (or remade when its attributes changed) as needed. */
  handlerFor(table: TableInfo): TableHandler {
    const key = `${table.tableAttrs ?? ''}\u0000${destOf(table)}`;
    const known = this.#made.get(table.tableName);
    if (known !== undefined && known.key === key) return known.handler;
    let handler: TableHandler;
    try {
      const spec = parseHandlerSpec(table.tableAttrs);
      handler = createTableHandler(spec, { tableName: table.tableName, destTable: destOf(table) });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SkytoolsError(
        'HANDLER_FAILED',
        `table ${table.tableName}: cannot use its handler (table_attrs ${JSON.stringify(table.tableAttrs ?? '')}): ${reason}; fix it with change-handler, the batch is applied once it works`,
        { table: table.tableName, tableAttrs: table.tableAttrs },
        { cause: error },
      );
    }
    this.#made.set(table.tableName, { key, handler });
    return handler;
  }

  /** One data event of `table`, given to its handler (prepared first in this batch). */
  async apply(
    ctx: ApplyContext,
    table: TableInfo,
    event: Parameters<TableHandler['processEvent']>[1],
  ) {
    const handler = this.handlerFor(table);
    if (!this.#used.includes(handler)) {
      this.#used.push(handler);
      await handler.prepareBatch?.(ctx);
    }
    this.#dirty.add(handler);
    await handler.processEvent(ctx, event);
  }

  /** Everything buffered applied, in the order the handlers were first used. */
  async flush(ctx: ApplyContext): Promise<void> {
    if (this.#dirty.size === 0) return;
    for (const handler of this.#used) {
      if (this.#dirty.has(handler)) await handler.flush(ctx);
    }
    this.#dirty.clear();
  }

  /** The batch's end: flush, then each used handler's finishBatch. */
  async finish(ctx: ApplyContext): Promise<void> {
    await this.flush(ctx);
    for (const handler of this.#used) await handler.finishBatch?.(ctx);
    this.#used = [];
  }

  /** The batch failed: buffered work is dropped with its transaction. */
  reset(): void {
    this.#used = [];
    this.#dirty.clear();
    // A handler may keep state across batches (prepared statements, temp tables of a
    // rolled-back transaction): make fresh ones.
    this.#made.clear();
  }
}
