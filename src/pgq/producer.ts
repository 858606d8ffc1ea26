import type { Queryable } from '../db/queryable.js';
import { SkytoolsError } from '../errors.js';
import { type EventInput, encodeData, type PayloadOptions, textField } from './event-input.js';
import { type Logger, silentLogger } from './logger.js';

const insertSql = 'select pgq.insert_event($1, $2, $3, $4, $5, $6, $7) as ev_id';

/**
 * Insert one event with pgq.insert_event on `db`. Given the caller's client inside a
 * transaction, the event commits or rolls back with the caller's own work; given a pool, it
 * commits at once. Returns the event id (int8, as text).
 */
export async function insertEvent(
  db: Queryable,
  queue: string,
  event: EventInput,
  options: PayloadOptions = {},
): Promise<string> {
  const values = eventValues(queue, event, options.raw === true);
  const { rows } = await db.query<{ ev_id: string }>(insertSql, values);
  const id = rows[0]?.ev_id;
  if (id === undefined)
    throw new SkytoolsError('INSERT_FAILED', 'insert_event returned no id', { queue });
  return id;
}

export function eventValues(queue: string, event: EventInput, raw: boolean): unknown[] {
  if (typeof queue !== 'string') {
    throw new SkytoolsError('BAD_EVENT', 'queue name must be a string', { queue });
  }
  return [
    queue,
    textField(queue, 'type', event.type),
    encodeData(queue, event, raw),
    textField(queue, 'extra1', event.extra1),
    textField(queue, 'extra2', event.extra2),
    textField(queue, 'extra3', event.extra3),
    textField(queue, 'extra4', event.extra4),
  ];
}

export interface ProducerOptions extends PayloadOptions {
  /**
   * Called for each event {@link Producer.send} could not insert. Given, the failure is yours
   * to handle and `flush()` does not report it; not given, `flush()` rejects with it.
   */
  onError?: (error: SkytoolsError, event: EventInput) => void;
  logger?: Logger;
}

/**
 * `flush()` found events that `send` accepted but could not insert. They are not retried:
 * `events` hands them back, in send order, so the caller can send them again or keep them.
 */
export class ProduceError extends SkytoolsError {
  constructor(
    readonly queue: string,
    readonly events: EventInput[],
    readonly errors: SkytoolsError[],
  ) {
    const reasons = errors.map(reason);
    const first = reasons[0] ?? 'unknown error';
    const others = new Set(reasons).size - 1;
    super(
      'PRODUCE_FAILED',
      `${events.length} event${events.length === 1 ? '' : 's'} not inserted into queue ${queue}: ${first}` +
        (others > 0 ? ` (and ${others} other error${others === 1 ? '' : 's'})` : ''),
      { queue, failed: events.length },
      { cause: errors[0] },
    );
  }
}

/** The server's or driver's words for a failed insert, without our prefix. */
function reason(error: SkytoolsError): string {
  const cause = error.cause;
  return cause instanceof Error && !(cause instanceof SkytoolsError)
    ? cause.message
    : error.message;
}

/**
 * Fire-and-forget producing on a pool: every event commits on its own, independent of any
 * caller transaction. `send` never throws; a failed insert goes to `onError` when one is
 * given, else it is held and the next `flush()` rejects with a {@link ProduceError} naming
 * the queue and the count. A failure that happens while no `flush()` waits, with no
 * `onError`, is also written as a process warning (stderr), so a program that never flushes
 * does not lose events without a word.
 */
export class Producer {
  readonly #pending = new Set<Promise<unknown>>();
  readonly #logger: Logger;
  #failed: { event: EventInput; error: SkytoolsError }[] = [];
  #flushing = 0;

  constructor(
    readonly pool: Queryable,
    readonly queue: string,
    readonly options: ProducerOptions = {},
  ) {
    this.#logger = options.logger ?? silentLogger;
  }

  /** Insert now and return the id; rejects on failure (no transaction of the caller's). */
  insert(event: EventInput): Promise<string> {
    return insertEvent(this.pool, this.queue, event, this.options);
  }

  /** Queue the insert and return at once. */
  send(event: EventInput): void {
    const done = this.insert(event).catch((cause: unknown) => this.#failure(event, cause));
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
  }

  /**
   * Resolves when every event sent before the call has been inserted; rejects with a
   * {@link ProduceError} when some could not be (those not given to `onError`). The failures
   * it reports are cleared: the next `flush()` reports only new ones.
   */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      await Promise.all([...this.#pending]);
    } finally {
      this.#flushing--;
    }
    if (this.#failed.length === 0) return;
    const failed = this.#failed;
    this.#failed = [];
    throw new ProduceError(
      this.queue,
      failed.map((f) => f.event),
      failed.map((f) => f.error),
    );
  }

  /** Events accepted by `send` that failed and wait for `flush()` to report them. */
  get failedCount(): number {
    return this.#failed.length;
  }

  #failure(event: EventInput, cause: unknown): void {
    const error =
      cause instanceof SkytoolsError
        ? cause
        : new SkytoolsError(
            'PRODUCE_FAILED',
            `cannot insert event into queue ${this.queue}: ${(cause as Error).message}`,
            { queue: this.queue, type: event.type },
            { cause },
          );
    try {
      this.#logger.error({ queue: this.queue, err: error }, error.message);
    } catch {
      // A broken logger must not turn the failure into an unhandled rejection.
    }
    const onError = this.options.onError;
    if (onError === undefined) {
      this.#failed.push({ event, error });
      if (this.#flushing === 0) {
        process.emitWarning(`${error.message} (reported by the next flush())`, {
          type: 'ProduceWarning',
          code: 'SKYTOOLS_PRODUCE_FAILED',
        });
      }
      return;
    }
    try {
      onError(error, event);
    } catch (callbackError) {
      // A throwing callback must not turn into an unhandled rejection that ends the process;
      // it must not hide the failure either: flush() reports the event.
      this.#failed.push({
        event,
        error: new SkytoolsError(
          'PRODUCE_FAILED',
          `${error.message} (and onError threw: ${(callbackError as Error)?.message})`,
          { queue: this.queue, type: event.type },
          { cause: error },
        ),
      });
    }
  }
}
