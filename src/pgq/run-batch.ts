import type pg from 'pg';
import { SkytoolsError } from '../errors.js';
import type { Batch } from './batch.js';
import type { ResolvedOptions } from './consumer-options.js';
import type { Event } from './event.js';
import type { Logger } from './logger.js';

export interface HandlerContext {
  batch: Batch;
  /** Transactional mode: the client inside the batch's transaction. Undefined otherwise. */
  client: pg.ClientBase | undefined;
  /** Aborts on `stopNow`: long handlers may give up early (their event is delivered again). */
  signal: AbortSignal | undefined;
}

/** Called once per event; a throw sends the event to retry (see `Consumer.run`). */
export type EventHandler = (event: Event, context: HandlerContext) => unknown;

export interface RunOptions {
  /** Graceful stop: the batch in hand is finished, then `run` resolves. */
  signal?: AbortSignal;
  /** Immediate stop: the batch in hand is left unfinished (delivered again later). */
  stopNow?: AbortSignal;
  /** Events of one batch handled at once (default 1: one after another, in order). */
  concurrency?: number;
}

interface ProcessOptions {
  careful: boolean;
  concurrency: number;
  options: ResolvedOptions;
  log: Logger;
  stopNow: AbortSignal | undefined;
}

type Outcome = 'done' | 'stopped' | 'replay-careful';

const savepoint = 'skytools_event';

class ReplayCareful extends Error {}

/** Run the handler over every event of the batch; the caller finishes or abandons it. */
export async function processBatch(
  batch: Batch,
  handler: EventHandler,
  p: ProcessOptions,
): Promise<Outcome> {
  const context: HandlerContext = { batch, client: batch.client, signal: p.stopNow };
  const handle = p.careful
    ? (event: Event) => handleCarefully(batch, handler, event, context, p)
    : (event: Event) => handleOne(batch, handler, event, context, p);
  try {
    for await (const block of batch.blocks()) {
      if (p.concurrency === 1 && !p.careful) {
        // The hot loop: a handler that returns no promise costs no await.
        for (const event of block) {
          if (p.stopNow?.aborted) return 'stopped';
          try {
            const result = handler(event, context) as PromiseLike<unknown> | undefined;
            if (result !== null && typeof result?.then === 'function') await result;
          } catch (error) {
            if (p.options.transactional) throw new ReplayCareful();
            handlerFailed(batch, event, error, p);
          }
        }
      } else if (p.concurrency === 1) {
        for (const event of block) {
          if (p.stopNow?.aborted) return 'stopped';
          await handle(event);
        }
      } else if (await handleConcurrently(block, handle, p)) {
        return 'stopped';
      }
    }
  } catch (error) {
    if (error instanceof ReplayCareful) return 'replay-careful';
    throw error;
  }
  return p.stopNow?.aborted ? 'stopped' : 'done';
}

async function handleOne(
  batch: Batch,
  handler: EventHandler,
  event: Event,
  context: HandlerContext,
  p: ProcessOptions,
): Promise<void> {
  try {
    await handler(event, context);
  } catch (error) {
    // In transactional mode the failed handler's writes are in the batch's transaction:
    // only a rollback removes them.
    if (p.options.transactional) throw new ReplayCareful();
    handlerFailed(batch, event, error, p);
  }
}

async function handleCarefully(
  batch: Batch,
  handler: EventHandler,
  event: Event,
  context: HandlerContext,
  p: ProcessOptions,
): Promise<void> {
  const client = batch.connection;
  await client.query(`savepoint ${savepoint}`);
  try {
    await handler(event, context);
  } catch (error) {
    await client.query(`rollback to savepoint ${savepoint}`);
    await client.query(`release savepoint ${savepoint}`);
    handlerFailed(batch, event, error, p);
    return;
  }
  await client.query(`release savepoint ${savepoint}`);
}

/** Up to `concurrency` handlers at once over one block; true when stopped early. */
async function handleConcurrently(
  block: Event[],
  handle: (event: Event) => Promise<void>,
  p: ProcessOptions,
): Promise<boolean> {
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (next < block.length) {
      if (p.stopNow?.aborted) {
        stopped = true;
        return;
      }
      await handle(block[next++] as Event);
    }
  };
  const workers = Array.from({ length: Math.min(p.concurrency, block.length) }, worker);
  const results = await Promise.allSettled(workers);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return stopped;
}

/** What happens to an event that failed: the consumer's retryDelay, maxRetries, deadLetterQueue. */
export type RetryPolicy = Pick<ResolvedOptions, 'retryDelay' | 'maxRetries' | 'deadLetterQueue'>;

function handlerFailed(batch: Batch, event: Event, error: unknown, p: ProcessOptions): void {
  eventFailed(batch, event, error, p.options, p.log);
}

/**
 * Apply the retry policy to an event that failed: send it to retry, to the dead-letter queue
 * (both written when the batch is finished), or throw MAX_RETRIES naming it.
 */
export function eventFailed(
  batch: Batch,
  event: Event,
  error: unknown,
  policy: RetryPolicy,
  log: Logger,
): 'retry' | 'dead-letter' {
  const { maxRetries, deadLetterQueue, retryDelay } = policy;
  const retries = event.retryCount ?? 0;
  const context = { batch: batch.id, event: event.id, retries, err: error };
  if (maxRetries !== null && retries >= maxRetries) {
    if (deadLetterQueue !== null) {
      log.warn({ ...context, deadLetterQueue }, 'event failed past max retries: dead-lettered');
      batch.deadLetter(event);
      return 'dead-letter';
    }
    throw new SkytoolsError(
      'MAX_RETRIES',
      `event ${event.id} of batch ${batch.id} failed after ${retries} retries (max ${maxRetries}): ${(error as Error)?.message ?? String(error)}`,
      { queue: batch.queue, consumer: batch.consumer, batch: batch.id, event: event.id },
      { cause: error },
    );
  }
  log.warn({ ...context, retryDelay }, 'handler failed: event sent to retry');
  batch.retry(event, retryDelay);
  return 'retry';
}
