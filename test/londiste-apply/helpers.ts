/**
 * Real events for the apply tests: a queue with PgQ triggers on source tables (schema
 * `src`), its batches read back through the pgq SQL API as the worker reads them (rows kept
 * as text), and applied with the handlers into copies of the tables (schema `dst`).
 */
import type pg from 'pg';
import { expect } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import { BatchApplier } from '../../src/londiste/apply/batch-applier.js';
import type { ApplyContext, TableHandler } from '../../src/londiste/handler.js';
import { createTableHandler } from '../../src/londiste/handlers/registry.js';
import { BatchRetries } from '../../src/pgq/batch-retries.js';
import { Event, eventColumns, rawTypes } from '../../src/pgq/event.js';
import { silentLogger } from '../../src/pgq/logger.js';

const consumer = 'apply_test';

export async function createQueue(db: pg.ClientBase, queue: string): Promise<void> {
  await db.query('select pgq.create_queue($1)', [queue]);
  await db.query('select pgq.register_consumer($1, $2)', [queue, consumer]);
}

export type TriggerKind = 'logutriga' | 'sqltriga' | 'jsontriga';

/**
 * The table in `src` (with the queue's row and truncate triggers; its set name is
 * `src.name`, the ev_extra1 of the triggers) and its copy in `dst` (stored form `dst.name`). `columns` is the column list of CREATE TABLE.
 */
export async function createTablePair(
  db: pg.ClientBase,
  queue: string,
  name: string,
  columns: string,
  kind: TriggerKind = 'logutriga',
): Promise<{ src: string; dst: string; setName: string; destName: string }> {
  await db.query('create schema if not exists src');
  await db.query('create schema if not exists dst');
  const src = `src.${quoteIdent(name)}`;
  const dst = `dst.${quoteIdent(name)}`;
  await db.query(`create table ${src} (${columns})`);
  await db.query(`create table ${dst} (${columns})`);
  const setName = `src.${name}`;
  const extra = '';
  await db.query(
    `create trigger _londiste after insert or update or delete on ${src} for each row execute function pgq.${kind}(${quoteLiteralArg(queue)}${extra})`,
  );
  await db.query(
    `create trigger _londiste_truncate after truncate on ${src} for each statement execute function pgq.sqltriga(${quoteLiteralArg(queue)}${extra})`,
  );
  return { src, dst, setName, destName: `dst.${name}` };
}

function quoteLiteralArg(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Tick, and read the next batch of the test consumer (null when there is none). */
export async function readBatch(
  db: pg.ClientBase,
  queue: string,
): Promise<{ id: number; events: Event[] } | null> {
  await db.query('select pgq.force_tick($1)', [queue]);
  await db.query('select pgq.ticker($1)', [queue]);
  const { rows } = await db.query('select pgq.next_batch($1, $2) as id', [queue, consumer]);
  const id = rows[0].id as number | null;
  if (id === null) return null;
  const retries = new BatchRetries(id, { queue, consumer });
  const result = await db.query<(string | null)[]>({
    text: `select ${eventColumns} from pgq.get_batch_events($1) order by ev_id`,
    values: [id],
    rowMode: 'array',
    types: rawTypes,
  } as pg.QueryConfig);
  return { id, events: result.rows.map((row) => new Event(row as (string | null)[], retries)) };
}

/**
 * Apply the queue's pending events with `handlers` (by set name) on `db` in one
 * transaction with the batch's finish, as the worker does; returns the applier's counters.
 */
export async function applyPending(
  db: pg.Client,
  queue: string,
  handlers: ReadonlyMap<string, TableHandler>,
  /** Statements run first in the batch's transaction (e.g. planner settings). */
  setup: string[] = [],
) {
  const batch = await readBatch(db, queue);
  const applier = new BatchApplier({ handlerFor: (table) => handlers.get(table) });
  if (batch === null) return applier.counters;
  const ctx: ApplyContext = {
    client: db,
    queue,
    batchId: batch.id,
    tick: '0',
    log: silentLogger,
  };
  await db.query('begin');
  try {
    await db.query("set local session_replication_role = 'replica'");
    for (const sql of setup) await db.query(sql);
    for (const event of batch.events) {
      const wait = applier.processEvent(ctx, event);
      if (wait) await wait;
    }
    await applier.finishAll(ctx);
    await db.query('select pgq.finish_batch($1)', [batch.id]);
    await db.query('commit');
  } catch (error) {
    applier.abandon();
    await db.query('rollback');
    throw error;
  }
  return applier.counters;
}

/** Both tables' rows as text, sorted: equal when the copy matches the source. */
export async function expectSameRows(db: pg.ClientBase, src: string, dst: string): Promise<void> {
  const rowsOf = async (table: string) =>
    (await db.query(`select t::text as r from ${table} t order by 1`)).rows.map((row) => row.r);
  const [a, b] = [await rowsOf(src), await rowsOf(dst)];
  expect(b.length).toBe(a.length);
  expect(b).toEqual(a);
}

/** The default handler for a table pair, and the map applyPending takes. */
export function defaultHandlers(
  pairs: { setName: string; destName: string }[],
  args: Record<string, string> = {},
): Map<string, TableHandler> {
  return new Map(
    pairs.map((t) => [
      t.setName,
      createTableHandler(
        { name: 'londiste', args },
        { tableName: t.setName, destTable: t.destName },
      ),
    ]),
  );
}
