/**
 * `qsplitter` (`queue=Q`): the table is virtual here (no table, no copy) and its events go
 * into the local queue Q as they came (type, data, extra1..4, time), in the batch's
 * transaction: one COPY into Q's event table per batch, so the events reach Q exactly
 * once, with the batch.
 */
import { bulkInsertEvents } from '../../pgq/bulk-insert.js';
import type { Event } from '../../pgq/event.js';
import { copyOfEvent, type EventInput } from '../../pgq/event-input.js';
import type { ApplyContext, HandlerFactory, HandlerTable } from '../handler.js';
import { requiredArg } from './args.js';
import { VirtualTableHandler } from './vtable.js';

// Events kept in memory at most before they are written to the queue.
const bufferLimit = 5000;

export class QueueSplitterHandler extends VirtualTableHandler {
  readonly queue: string;
  #pending: EventInput[] = [];

  constructor(table: HandlerTable) {
    super();
    this.queue = requiredArg('qsplitter', table, 'queue');
  }

  override processEvent(ctx: ApplyContext, event: Event): void | Promise<void> {
    this.#pending.push(copyOfEvent(event));
    if (this.#pending.length >= bufferLimit) return this.flush(ctx);
  }

  override async flush(ctx: ApplyContext): Promise<void> {
    if (this.#pending.length === 0) return;
    const events = this.#pending;
    this.#pending = [];
    await bulkInsertEvents(ctx.client, this.queue, events, { raw: true });
  }

  /** The batch was rolled back: what it buffered goes with it. */
  discard(): void {
    this.#pending = [];
  }
}

export const qsplitterHandler: HandlerFactory = {
  name: 'qsplitter',
  description:
    "Queue splitter: the table's events go into a local queue.\n" +
    'The table is virtual here (no table, no trigger, no copy); each event of it is inserted\n' +
    'into the queue named by queue=Q on this node, with its type, data, extras and time, in\n' +
    "the batch's transaction.",
  args: [{ name: 'queue', description: 'the local queue the events go to (required)' }],
  create: (table) => new QueueSplitterHandler(table),
};
