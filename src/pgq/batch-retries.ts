import { SkytoolsError } from '../errors.js';
import type { Event } from './event.js';

/** The retry marks of one batch: event id -> delay in seconds. */
export class BatchRetries {
  readonly marks = new Map<string, { event: Event; delay: number }>();
  #closed = false;

  constructor(
    readonly batchId: number,
    readonly context: { queue: string; consumer: string },
  ) {}

  retry(event: Event, delaySeconds: number): void {
    if (!Number.isFinite(delaySeconds) || delaySeconds < 0 || delaySeconds > 2 ** 31 - 1) {
      throw new SkytoolsError(
        'BAD_RETRY_DELAY',
        `retry delay must be a number of seconds from 0 to 2147483647, got ${delaySeconds}`,
        { ...this.context, batch: this.batchId, event: event.id },
      );
    }
    this.#check(event);
    this.marks.set(event.id, { event, delay: Math.ceil(delaySeconds) });
  }

  clearRetry(event: Event): void {
    this.#check(event);
    this.marks.delete(event.id);
  }

  /** After finish (or abandon) a mark would be lost silently: refuse it instead. */
  close(): void {
    this.#closed = true;
  }

  #check(event: Event): void {
    if (this.#closed) {
      throw new SkytoolsError(
        'BATCH_CLOSED',
        `batch ${this.batchId} is already finished or abandoned; event ${event.id} cannot change`,
        { ...this.context, batch: this.batchId, event: event.id },
      );
    }
  }
}
