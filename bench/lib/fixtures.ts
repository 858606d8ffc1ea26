import { readFileSync } from 'node:fs';
import type pg from 'pg';
import { quoteIdent } from '../../src/db/quote.js';

const plainEventSql = readFileSync(new URL('../sql/plain-event.sql', import.meta.url), 'utf8');

/** A fresh bench.plain_event (see bench/sql/plain-event.sql). */
export async function createPlainEventTable(client: pg.Client): Promise<void> {
  await client.query(plainEventSql);
}

/** A new queue named `queue` (dropped first if a previous run left it). */
export async function createQueue(client: pg.Client, queue: string): Promise<void> {
  await client.query(
    `select pgq.unregister_consumer(queue_name, consumer_name)
       from pgq.get_consumer_info() where queue_name = $1`,
    [queue],
  );
  await client.query(
    'select pgq.drop_queue(queue_name, true) from pgq.queue where queue_name = $1',
    [queue],
  );
  await client.query('select pgq.create_queue($1)', [queue]);
}

/** The data tables of a queue, quoted, for TRUNCATE between samples. */
export async function queueTables(client: pg.Client, queue: string): Promise<string[]> {
  const { rows } = await client.query<{ pfx: string; n: number }>(
    'select queue_data_pfx as pfx, queue_ntables as n from pgq.queue where queue_name = $1',
    [queue],
  );
  const row = rows[0];
  if (!row) throw new Error(`bench: queue ${queue} not found`);
  const [schema, table] = row.pfx.split('.') as [string, string];
  return Array.from(
    { length: row.n },
    (_, i) => `${quoteIdent(schema)}.${quoteIdent(`${table}_${i}`)}`,
  );
}

/** Empty the queue's tables and the plain table, so every sample starts alike. */
export async function emptyTables(client: pg.Client, tables: readonly string[]): Promise<void> {
  await client.query(`truncate ${[...tables, 'bench.plain_event'].join(', ')}`);
}

/** ~100 bytes of JSON, different per event. */
export function payload(i: number): string {
  return JSON.stringify({
    id: i,
    kind: 'order',
    customer: 'customer-0042',
    amount: 1234.5,
    note: 'x'.repeat(28),
  });
}
