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
  /** Where failures of {@link Producer.send} go besides the logger. */
  onError?: (error: SkytoolsError, event: EventInput) => void;
  logger?: Logger;
}

/**
 * Fire-and-forget producing on a pool: every event commits on its own, independent of any
 * caller transaction. `send` never throws or rejects; failures go to `onError` and the
 * logger. `flush` waits for what was sent so far.
 */
export class Producer {
  readonly #pending = new Set<Promise<unknown>>();
  readonly #logger: Logger;

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
    const done = this.insert(event).catch((cause: unknown) => {
      const error =
        cause instanceof SkytoolsError
          ? cause
          : new SkytoolsError(
              'PRODUCE_FAILED',
              `cannot insert event into queue ${this.queue}: ${(cause as Error).message}`,
              { queue: this.queue, type: event.type },
              { cause },
            );
      // A throwing callback must not turn into an unhandled rejection that ends the process.
      try {
        this.#logger.error({ queue: this.queue, err: error }, error.message);
        this.options.onError?.(error, event);
      } catch {}
    });
    this.#pending.add(done);
    void done.finally(() => this.#pending.delete(done));
  }

  /** Resolves when every event sent before the call has been inserted or has failed. */
  async flush(): Promise<void> {
    await Promise.all([...this.#pending]);
  }
}
