import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteQualified } from '../db/quote.js';
import { SkytoolsError } from '../errors.js';
import { copyField } from './copy-text.js';
import { type EventInput, encodeData, type PayloadOptions, textField } from './event-input.js';

// Rows are gathered into chunks of about this many characters before each write: one CopyData
// message per chunk instead of one per row.
const chunkSize = 64 * 1024;
const savepoint = 'skytools_bulk_insert';

export type BulkEventSource = Iterable<EventInput> | AsyncIterable<EventInput>;

/**
 * Insert many events with one COPY into the queue's current event table
 * (pgq.current_event_table), inside the caller's transaction when `client` is in one, else in
 * a transaction of its own. ev_id and ev_txid come from the table's defaults (the queue's event
 * sequence and txid_current(), as insert_event takes them), ev_time is the event's `time` or the transaction's
 * now(). A failure leaves nothing of the call behind and the caller's transaction usable.
 * Not checked, as upstream: the queue's per-transaction event limit. Returns the row count.
 */
export async function bulkInsertEvents(
  client: pg.ClientBase,
  queue: string,
  events: BulkEventSource,
  options: PayloadOptions = {},
): Promise<number> {
  const aborted = (cause?: unknown) =>
    new SkytoolsError(
      'TRANSACTION_ABORTED',
      'bulk insert on a client whose transaction has failed: roll it back first',
      { queue },
      { cause },
    );
  const status = client.getTransactionStatus();
  if (status === 'E') throw aborted();
  const ownTransaction = status === 'I';
  try {
    await client.query(ownTransaction ? 'begin' : `savepoint ${savepoint}`);
  } catch (error) {
    // The status can lag behind a failure the caller has just seen: the server says so too.
    if ((error as { code?: string }).code === '25P02') throw aborted(error);
    throw error;
  }
  try {
    const count = await copyEvents(client, queue, events, options.raw === true);
    await client.query(ownTransaction ? 'commit' : `release savepoint ${savepoint}`);
    return count;
  } catch (error) {
    await client
      .query(ownTransaction ? 'rollback' : `rollback to savepoint ${savepoint}`)
      .catch(() => {});
    throw error;
  }
}

async function copyEvents(
  client: pg.ClientBase,
  queue: string,
  events: BulkEventSource,
  raw: boolean,
): Promise<number> {
  const { rows } = await client.query<{ tbl: string; now: string }>(
    'select pgq.current_event_table($1) as tbl, now()::text as now',
    [queue],
  );
  const target = rows[0];
  if (!target) throw new SkytoolsError('INSERT_FAILED', 'no current event table', { queue });
  const [schema, table] = target.tbl.split('.') as [string, string];
  const time = copyField(target.now);
  const stream = client.query(
    copyFrom(
      `copy ${quoteQualified(schema, table)} (ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4) from stdin`,
    ),
  );
  let serverFailed = false;
  const failed = new Promise<never>((_, reject) =>
    stream.once('error', (error) => {
      serverFailed = true;
      reject(error);
    }),
  );
  failed.catch(() => {});
  let chunk = '';
  const write = async (text: string) => {
    if (!stream.write(text)) await Promise.race([once(stream, 'drain'), failed]);
  };
  try {
    for await (const event of events) {
      chunk +=
        (event.time === undefined || event.time === null ? time : eventTime(event.time)) +
        '\t' +
        copyField(textField(queue, 'type', event.type)) +
        '\t' +
        copyField(encodeData(queue, event, raw)) +
        '\t' +
        copyField(textField(queue, 'extra1', event.extra1)) +
        '\t' +
        copyField(textField(queue, 'extra2', event.extra2)) +
        '\t' +
        copyField(textField(queue, 'extra3', event.extra3)) +
        '\t' +
        copyField(textField(queue, 'extra4', event.extra4)) +
        '\n';
      if (chunk.length >= chunkSize) {
        const text = chunk;
        chunk = '';
        await write(text);
      }
    }
    if (chunk) await write(chunk);
  } catch (error) {
    // Our own failure (a bad event): send CopyFail, the server discards every row of this COPY.
    // A failure the server reported has ended the COPY already.
    if (!serverFailed) {
      const closed = once(stream, 'close').catch(() => {});
      stream.on('error', () => {});
      stream.destroy(error instanceof Error ? error : new Error(String(error)));
      await closed;
    }
    if (error instanceof SkytoolsError) throw addQueue(error, queue);
    throw error;
  }
  stream.end();
  await Promise.race([once(stream, 'finish'), failed]);
  return stream.rowCount;
}

function eventTime(time: string | Date): string {
  return copyField(time instanceof Date ? time.toISOString() : time);
}

function addQueue(error: SkytoolsError, queue: string): SkytoolsError {
  return error.context.queue === undefined
    ? new SkytoolsError(error.code, `${error.message} (queue ${queue})`, {
        ...error.context,
        queue,
      })
    : error;
}
