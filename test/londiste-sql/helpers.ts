/**
 * Nodes of londiste queues for the londiste SQL tests, all in the test file's database (as
 * the merge set-ups of upstream put several queues in one): a root with a pgq consumer that
 * reads what the root's triggers and functions emit, a branch and a leaf below providers
 * that exist only as registered locations.
 */
import type pg from 'pg';
import { expect } from 'vitest';
import { one, type Row } from '../pgq_node/node-helpers.js';

export { one, type Row };

/** `(ret_code, ret_note)` of a londiste call. */
export async function ret(db: pg.ClientBase, text: string, values?: unknown[]) {
  const { rows } = await db.query(text, values);
  return { code: rows[0]?.ret_code as number, note: rows[0]?.ret_note as string };
}

async function ok(db: pg.ClientBase, text: string, values: unknown[]) {
  const result = await ret(db, text, values);
  expect(result.code, `${text} ${JSON.stringify(values)}: ${result.note}`).toBe(200);
}

/** A root node of `queue` with a consumer `reader` registered on its queue. */
export async function createRoot(db: pg.ClientBase, queue: string) {
  await ok(db, 'select * from pgq_node.register_location($1, $2, $3, false)', [
    queue,
    'root',
    'dbname=root',
  ]);
  await ok(db, `select * from pgq_node.create_node($1, 'root', 'root', 'w', null, null, null)`, [
    queue,
  ]);
  await db.query(`select pgq.register_consumer($1, 'reader')`, [queue]);
}

/** A branch or leaf node of `queue` below a provider that is only a location. */
export async function createSubscriber(
  db: pg.ClientBase,
  queue: string,
  type: 'branch' | 'leaf',
  combinedQueue: string | null = null,
) {
  for (const [node, location] of [
    ['up', 'dbname=up'],
    ['me', 'dbname=me'],
  ]) {
    await ok(db, 'select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      node,
      location,
    ]);
  }
  await ok(db, `select * from pgq_node.create_node($1, $2, 'me', 'w', 'up', 1, $3)`, [
    queue,
    type,
    combinedQueue,
  ]);
}

/**
 * The events of the root's queue since the last call, read as a consumer does: a tick, the
 * next batch of `reader`, its events, the batch finished.
 */
export async function readEvents(db: pg.ClientBase, queue: string): Promise<Row[]> {
  await db.query('select pgq.force_tick($1)', [queue]);
  await db.query('select pgq.ticker($1)', [queue]);
  const batch = await one(db, `select pgq.next_batch($1, 'reader') as id`, [queue]);
  if (batch.id === null) throw new Error(`no batch on ${queue}`);
  const { rows } = await db.query(
    `select ev_type, ev_data, ev_extra1, ev_extra2 from pgq.get_batch_events($1) order by ev_id`,
    [batch.id],
  );
  await db.query('select pgq.finish_batch($1)', [batch.id]);
  return rows;
}

/** `pg_get_triggerdef` of every user trigger of a table, by name. */
export async function triggerDefs(db: pg.ClientBase, table: string) {
  const { rows } = await db.query(
    `select tgname, pg_get_triggerdef(oid) as def from pg_trigger
      where tgrelid = $1::regclass and not tgisinternal order by tgname`,
    [table],
  );
  return Object.fromEntries(rows.map((r) => [r.tgname, r.def]));
}
