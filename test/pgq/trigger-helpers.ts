/**
 * Helpers for the tests of the pgq row triggers (pgq.logutriga, pgq.sqltriga, pgq.jsontriga):
 * a fresh queue per test, trigger DDL with quoted arguments, and the events a queue holds,
 * read straight from its event tables (no ticker needed).
 */
import type pg from 'pg';
import { expect } from 'vitest';
import { quoteIdent, quoteLiteral } from '../../src/db/quote.js';

/** Anything that runs a query: the file's shared pool or one client. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export interface QueuedEvent {
  ev_type: string | null;
  ev_data: string | null;
  ev_extra1: string | null;
  ev_extra2: string | null;
  ev_extra3: string | null;
  ev_extra4: string | null;
}

let queues = 0;

/** Create a queue with a name unique in this file (the prefix may be any text). */
export async function newQueue(db: Queryable, prefix = 'q'): Promise<string> {
  queues += 1;
  const name = `${prefix}_${queues}`;
  const { rows } = await db.query<{ r: number }>('select pgq.create_queue($1) as r', [name]);
  expect(rows[0]?.r).toBe(1);
  return name;
}

/** The events of one queue in ev_id order, as stored by the trigger. */
export async function events(db: Queryable, queue: string): Promise<QueuedEvent[]> {
  const { rows } = await db.query<{ queue_id: number }>(
    'select queue_id from pgq.queue where queue_name = $1',
    [queue],
  );
  const id = rows[0]?.queue_id;
  if (id === undefined) throw new Error(`no queue ${JSON.stringify(queue)}`);
  const result = await db.query<QueuedEvent>(
    `select ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4
       from pgq.${quoteIdent(`event_${id}`)} order by ev_id`,
  );
  return result.rows;
}

/** Only ev_type and ev_data of each event, for compact expectations. */
export async function typeAndData(
  db: Queryable,
  queue: string,
): Promise<[string | null, string | null][]> {
  return (await events(db, queue)).map((ev) => [ev.ev_type, ev.ev_data]);
}

export interface TriggerOptions {
  /** BEFORE or AFTER (default AFTER). */
  timing?: 'BEFORE' | 'AFTER';
  /** Events, default `INSERT OR UPDATE OR DELETE`. */
  on?: string;
  /** ROW (default) or STATEMENT. */
  level?: 'ROW' | 'STATEMENT';
  /** Trigger name, default `pgq_<fn>`. */
  name?: string;
}

/**
 * CREATE TRIGGER for one of the pgq trigger functions; `table` is already quoted, every
 * argument is passed as a string literal.
 */
export function createTrigger(
  fn: 'logutriga' | 'sqltriga' | 'jsontriga',
  table: string,
  args: string[],
  options: TriggerOptions = {},
): string {
  const name = options.name ?? `pgq_${fn}`;
  return `create trigger ${quoteIdent(name)} ${options.timing ?? 'AFTER'} ${
    options.on ?? 'INSERT OR UPDATE OR DELETE'
  } on ${table} for each ${options.level ?? 'ROW'} execute function pgq.${fn}(${args
    .map((arg) => quoteLiteral(arg))
    .join(', ')})`;
}

/** The error a statement fails with; fails the test when it succeeds. */
export async function pgError(
  promise: Promise<unknown>,
): Promise<{ message: string; code: string }> {
  try {
    await promise;
  } catch (error) {
    const { message, code } = error as { message: string; code: string };
    return { message, code };
  }
  throw new Error('statement succeeded, an error was expected');
}

/** Expect a rejection with exactly this primary message and SQLSTATE (P0001: raise exception). */
export async function expectPgError(
  promise: Promise<unknown>,
  message: string,
  code = 'P0001',
): Promise<void> {
  expect(await pgError(promise)).toEqual({ message, code });
}

/** Rows of a table as text, in the order of its first column, to compare before and after. */
export async function tableRows(db: Queryable, table: string): Promise<string[]> {
  const { rows } = await db.query<{ r: string }>(`select t::text as r from ${table} t order by 1`);
  return rows.map((row) => row.r);
}

/**
 * A table whose schema, table and column names need quoting: quotes, spaces, a dot, mixed
 * case, a reserved word, unicode and URL separators; composite key ("Order", "Id").
 */
export const hostileTable = `${quoteIdent('Sch "ema')}.${quoteIdent('Weird "Tab" .x')}`;
export const hostileTableDdl = `
  create schema ${quoteIdent('Sch "ema')};
  create table ${hostileTable} (
    "Id" int, "sel ect" text, "select" text, "ünï" text, "a=b&c" int, "Order" int,
    primary key ("Order", "Id"));`;
/** ev_extra1 of its events: schema.table, unquoted. */
export const hostileExtra1 = 'Sch "ema.Weird "Tab" .x';
/** The changes the format tests make to it: insert, update, no-op update, delete. */
export const hostileChanges = [
  `insert into ${hostileTable} values (1, E'it''s', 'x&y=z', 'ü', null, 7)`,
  `update ${hostileTable} set "sel ect" = 'a b', "a=b&c" = 3`,
  `update ${hostileTable} set "select" = "select"`,
  `delete from ${hostileTable}`,
];
