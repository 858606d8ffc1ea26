/**
 * Hands a batch's table events to their tables' handlers, in queue order, and keeps the
 * counts of the stats line. The worker decides which tables take events (those `ok`, or
 * catching up past their copy) through `handlerFor`; an event of any other table is ignored
 * and counted, as upstream's `ignored_events`.
 *
 * Handlers buffer: order across tables matters only at barriers, so the worker calls
 * {@link BatchApplier.flushAll} before a truncate, an EXECUTE, a `londiste.*` event, and
 * {@link BatchApplier.finishAll} at the batch's end.
 */
import type { Event } from '../../pgq/event.js';
import type { ApplyContext, TableHandler } from '../handler.js';
import { isTruncatingHandler } from '../handlers/londiste.js';
import { isTruncateEvent } from './row-change.js';

export interface BatchApplierOptions {
  /** The handler that applies events of a table (its set name), or undefined to ignore them. */
  handlerFor(table: string): TableHandler | undefined;
}

export interface ApplyCounters {
  /** Data events given to a handler. */
  applied: number;
  /** Data events of tables that take none here. */
  ignored: number;
  /** Truncates applied (or skipped by `ignore_truncate`). */
  truncates: number;
}

export class BatchApplier {
  readonly #handlerFor: (table: string) => TableHandler | undefined;
  /** Handlers that got events in this batch, in the order they got their first one. */
  readonly #active = new Set<TableHandler>();
  readonly counters: ApplyCounters = { applied: 0, ignored: 0, truncates: 0 };

  constructor(options: BatchApplierOptions) {
    this.#handlerFor = options.handlerFor;
  }

  /** The table of a data event: ev_extra1 of every PgQ trigger (`schema.name`). */
  static tableOf(event: Event): string | null {
    return event.extra1;
  }

  /**
   * One data event (I/U/D in any format, or a truncate), in queue order. Returns a promise
   * only when there is something to wait for (a flush, a truncate, a handler's prepare), so
   * the common case costs no await: `const wait = applier.processEvent(ctx, ev); if (wait)
   * await wait;`. An event of a table without a handler here is counted as ignored.
   */
  processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    const table = BatchApplier.tableOf(event);
    const handler = table === null ? undefined : this.#handlerFor(table);
    if (handler === undefined) {
      this.counters.ignored++;
      return;
    }
    if (!this.#active.has(handler)) {
      this.#active.add(handler);
      if (handler.prepareBatch !== undefined) {
        return handler.prepareBatch(ctx).then(() => this.#dispatch(ctx, handler, event));
      }
    }
    return this.#dispatch(ctx, handler, event);
  }

  #dispatch(ctx: ApplyContext, handler: TableHandler, event: Event): void | Promise<void> {
    if (isTruncateEvent(event.type)) {
      this.counters.truncates++;
      return this.#truncate(ctx, handler, event);
    }
    this.counters.applied++;
    return handler.processEvent(ctx, event);
  }

  async #truncate(ctx: ApplyContext, handler: TableHandler, event: Event): Promise<void> {
    // A truncate may cascade into other tables: everything before it goes first.
    await this.flushAll(ctx);
    if (isTruncatingHandler(handler)) await handler.truncate(ctx);
    else await handler.processEvent(ctx, event);
  }

  /** Apply what every handler buffered: before an order-sensitive event. */
  async flushAll(ctx: ApplyContext): Promise<void> {
    for (const handler of this.#active) await handler.flush(ctx);
  }

  /** The batch's end: flush everything, then each handler's finishBatch. */
  async finishAll(ctx: ApplyContext): Promise<void> {
    await this.flushAll(ctx);
    for (const handler of this.#active) await handler.finishBatch?.(ctx);
    this.#active.clear();
  }

  /** Forget the batch's handlers without applying (its transaction is rolled back). */
  abandon(): void {
    for (const handler of this.#active) {
      const discard = (handler as { discard?: () => void }).discard;
      discard?.call(handler);
    }
    this.#active.clear();
  }

  /** The counters since the last call, reset (for one stats line). */
  takeCounters(): ApplyCounters {
    const taken = { ...this.counters };
    this.counters.applied = 0;
    this.counters.ignored = 0;
    this.counters.truncates = 0;
    return taken;
  }
}
