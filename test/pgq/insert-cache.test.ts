import { describe, expect, it } from 'vitest';
import {
  consumeAll,
  insertEvent,
  makeQueue,
  queueRow,
  register,
  tick,
} from './consumer-helpers.js';
import { usePrivateDatabase } from './private-cluster.js';

// The generated insert functions keep the slot of the queue a transaction writes to in the
// transaction-local setting pgq.insert_cache (see pgq._generate_insert_functions). These tests
// check that the cache never sends an event to the wrong queue or loses one across a rotation.
// Rotation depends on the xmin of the whole cluster's transactions: a cluster of our own.
const db = usePrivateDatabase();

/** Table (pgq.event_N_M) that holds each event data value of the queue. */
async function tableOf(queue: string): Promise<Record<string, string>> {
  const { queue_data_pfx: pfx } = await queueRow(db, queue);
  const { rows } = await db.query<{ t: string; d: string }>(
    `select tableoid::regclass::text as t, ev_data as d from ${pfx as string}`,
  );
  return Object.fromEntries(rows.map((row) => [row.d, row.t.replace(/^pgq\.event_\d+_/, '')]));
}

async function cache(client: { query: typeof db.query }): Promise<string | null> {
  const { rows } = await client.query<{ c: string | null }>(
    "select current_setting('pgq.insert_cache', true) as c",
  );
  return rows[0]?.c ?? null;
}

describe('the per-transaction insert cache', () => {
  it('is written from the second event of a transaction on, and only for it', async () => {
    await makeQueue(db, 'ic_when');
    const client = await db.connect();
    await client.query('begin');
    await insertEvent(client, 'ic_when', 't', 'first');
    expect(await cache(client)).toBeFalsy();
    await insertEvent(client, 'ic_when', 't', 'second');
    const { queue_id: qid } = await queueRow(db, 'ic_when');
    expect(await cache(client)).toBe(`${Number(qid) * 65536}|ic_when`);
    await client.query('commit');
    expect(await cache(client)).toBeFalsy();
  });

  it('keeps a transaction on the table it first read, across a table switch', async () => {
    await makeQueue(db, 'ic_switch');
    await db.query(
      "update pgq.queue set queue_rotation_period = '0' where queue_name = 'ic_switch'",
    );
    await register(db, 'ic_switch', 'c');
    const producer = await db.connect();
    await producer.query('begin');
    for (const data of ['a1', 'a2']) await insertEvent(producer, 'ic_switch', 't', data);
    // Rotation step 1 commits in another session while the producer is open.
    await db.query("select pgq.maint_rotate_tables_step1('ic_switch')");
    expect((await queueRow(db, 'ic_switch')).queue_cur_table).toBe(1);
    await insertEvent(producer, 'ic_switch', 't', 'a3');
    await producer.query('commit');
    await insertEvent(producer, 'ic_switch', 't', 'b1');
    await db.query('select pgq.maint_rotate_tables_step2()');
    await tick(db, 'ic_switch');
    expect(await tableOf('ic_switch')).toEqual({ a1: '0', a2: '0', a3: '0', b1: '1' });
    expect((await consumeAll(db, 'ic_switch', 'c')).flat().sort()).toEqual([
      'a1',
      'a2',
      'a3',
      'b1',
    ]);
  });

  it('never serves insert_event_raw with an explicit id from the cache', async () => {
    await makeQueue(db, 'ic_raw');
    const client = await db.connect();
    await client.query('begin');
    const raw = (id: number | null, data: string) =>
      client.query(
        "select pgq.insert_event_raw('ic_raw', $1, null, null, null, 't', $2, null, null, null, null) as id",
        [id, data],
      );
    await raw(null, 'a');
    await raw(null, 'b');
    expect(await cache(client)).toContain('|ic_raw');
    const { rows } = await raw(777000, 'explicit');
    await client.query('commit');
    expect(rows[0]?.id).toBe('777000');
    const { queue_data_pfx: pfx } = await queueRow(db, 'ic_raw');
    const stored = await db.query(`select ev_id from ${pfx as string} where ev_data = 'explicit'`);
    expect(stored.rows).toEqual([{ ev_id: '777000' }]);
  });

  it('sends each event to its own queue when a transaction alternates queues', async () => {
    const names = ['ic_a', 'ic_b', 'ic|pipe', '', 'ic_a|'];
    for (const name of names) await makeQueue(db, name);
    const client = await db.connect();
    await client.query('begin');
    for (let round = 0; round < 3; round++) {
      for (const name of names) await insertEvent(client, name, 't', `${name}#${round}`);
    }
    await client.query('commit');
    for (const name of names) {
      expect(Object.keys(await tableOf(name)).sort()).toEqual([0, 1, 2].map((r) => `${name}#${r}`));
    }
  });

  it('forgets what a rolled-back savepoint cached, and follows a dropped queue', async () => {
    await makeQueue(db, 'ic_sp');
    const client = await db.connect();
    await client.query('begin');
    await insertEvent(client, 'ic_sp', 't', 'kept');
    await client.query('savepoint s');
    await insertEvent(client, 'ic_sp', 't', 'undone');
    expect(await cache(client)).toContain('|ic_sp');
    await client.query('rollback to savepoint s');
    expect(await cache(client)).toBeFalsy();
    await insertEvent(client, 'ic_sp', 't', 'again');
    // Drop and create the queue again in the same transaction: the cached slot is stale.
    await client.query("select pgq.drop_queue('ic_sp', true)");
    await client.query("select pgq.create_queue('ic_sp')");
    await insertEvent(client, 'ic_sp', 't', 'new queue');
    await client.query('commit');
    expect(await tableOf('ic_sp')).toEqual({ 'new queue': '0' });
  });
});
