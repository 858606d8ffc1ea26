/**
 * The handlers of the tables replay touches, made once per table (and again when its
 * attributes or destination change), and the batch's dispatcher over them (apply's
 * BatchApplier: queue order, flushes at barriers, counts). A handler that cannot be made
 * (unknown name or argument in table_attrs) fails the batch with one line naming the table:
 * nothing of the batch is applied, and it comes again after the retry delay.
 */

import type { BatchContext } from '../../cascade/worker-hooks.js';
import { SkytoolsError } from '../../errors.js';
import type { Event } from '../../pgq/event.js';
import type { Logger } from '../../pgq/logger.js';
import { BatchApplier } from '../apply/batch-applier.js';
import type { ApplyContext, TableHandler } from '../handler.js';
import { createTableHandler, loadHandlerModules, parseHandlerSpec } from '../handlers/registry.js';
import type { TableInfo } from '../table-state.js';
import type { TxidSnapshot } from './snapshot.js';
import { destOf } from './tables.js';

/** A table replay applies, with the copy snapshot whose events its data already holds. */
/** What the handlers get of the batch in hand: its session, queue, batch and tick. */
export function applyContext(ctx: BatchContext, queue: string, log: Logger): ApplyContext {
  return {
    client: ctx.subscriber,
    queue,
    batchId: ctx.batch.id,
    tick: ctx.batch.tick,
    tickTime: ctx.batch.tickTime,
    log,
  };
}

export interface ReplayTable {
  info: TableInfo;
  snapshot: TxidSnapshot | null;
}

export class HandlerCache {
  constructor(private readonly config: Readonly<Record<string, string>> = {}) {}

  readonly #made = new Map<string, { key: string; handler: TableHandler }>();

  /** The table's handler, made (or remade when its attributes changed) as needed. */
  handlerFor(table: TableInfo): TableHandler {
    const key = `${table.tableAttrs ?? ''}\u0000${destOf(table)}`;
    const known = this.#made.get(table.tableName);
    if (known !== undefined && known.key === key) return known.handler;
    let handler: TableHandler;
    try {
      const spec = parseHandlerSpec(table.tableAttrs);
      handler = createTableHandler(spec, {
        tableName: table.tableName,
        destTable: destOf(table),
        config: this.config,
      });
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
}

/**
 * Events per block a replaying worker reads (the cascade's default is 5000). Every event of
 * a block, its row and its buffered COPY line live until the block is applied, so a large
 * block survives the young generation's collections and each of them copies it: blocks of
 * 1000 halved the worker's GC time in a catch-up, for 20 more round trips per 100k events.
 */
export const replayBlockEvents = 1000;

/** One batch's (or one run of batches') dispatch of table events to their handlers. */
export class TableReplay {
  readonly cache: HandlerCache;
  #tables = new Map<string, ReplayTable>();
  #applier = this.#newApplier();
  #skipped = 0;
  #modulesLoaded: Promise<unknown> | null = null;

  constructor(
    private readonly handlerModules: readonly string[] = [],
    private readonly baseDir: string = process.cwd(),
    config: Readonly<Record<string, string>> = {},
  ) {
    this.cache = new HandlerCache(config);
  }

  #newApplier() {
    return new BatchApplier({
      handlerFor: (table) => {
        const replayed = this.#tables.get(table);
        return replayed === undefined ? undefined : this.cache.handlerFor(replayed.info);
      },
    });
  }

  /** handler_modules imported once, before the first batch. */
  async loadModules(): Promise<void> {
    if (this.handlerModules.length === 0) return;
    this.#modulesLoaded ??= loadHandlerModules(this.handlerModules, this.baseDir);
    await this.#modulesLoaded;
  }

  /** A new batch with these tables replayed; after a failed batch, its buffers are dropped. */
  begin(tables: Map<string, ReplayTable>, failedBefore: boolean): void {
    if (failedBefore) this.#applier.abandon();
    this.#tables = tables;
    this.#skipped = 0;
  }

  /** The table is no longer replayed from here on (removed within the batch). */
  forget(table: string): void {
    this.#tables.delete(table);
  }

  /**
   * One data or truncate event; an event the copied data already holds is skipped. A promise
   * only when there is something to wait for (as BatchApplier.processEvent): most events are
   * buffered, and a promise per event would cost more than buffering it.
   */
  apply(ctx: ApplyContext, event: Event): void | Promise<void> {
    const table = event.extra1 === null ? undefined : this.#tables.get(event.extra1);
    if (table?.snapshot?.visible(event.txid)) {
      this.#skipped++;
      return;
    }
    return this.#applier.processEvent(ctx, event);
  }

  flush(ctx: ApplyContext): Promise<void> {
    return this.#applier.flushAll(ctx);
  }

  finish(ctx: ApplyContext): Promise<void> {
    return this.#applier.finishAll(ctx);
  }

  /** What the batch applied and ignored (the copy's already-held events count as ignored). */
  counts(): { applied: number; ignored: number } {
    const c = this.#applier.takeCounters();
    const skipped = this.#skipped;
    this.#skipped = 0;
    return { applied: c.applied + c.truncates, ignored: c.ignored + skipped };
  }
}
