import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { expectPgError, inTransaction, queueId } from './queue-core-helpers.js';

const db = useTestDatabase();

async function limitedQueue(name: string, limit: number | null): Promise<number> {
  await db.query('select pgq.create_queue($1)', [name]);
  await db.query('update pgq.queue set queue_per_tx_limit = $2 where queue_name = $1', [
    name,
    limit,
  ]);
  return queueId(db, name);
}

async function rowCount(queue: string): Promise<number> {
  const id = await queueId(db, queue);
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from pgq.event_${id}`);
  return rows[0]?.n ?? -1;
}

const insert = (queue: string) =>
  `select pgq.insert_event(${`'${queue.replaceAll("'", "''")}'`}, 'type', 'data') as id`;

describe('queue_per_tx_limit', () => {
  it('limit 2: the third insert of one transaction fails and the transaction is lost', async () => {
    await limitedQueue('ptl_two', 2);
    const client = await db.connect();
    await client.query('begin');
    await client.query(insert('ptl_two'));
    await client.query(insert('ptl_two'));
    await expectPgError(
      client.query(insert('ptl_two')),
      "Queue 'ptl_two' allows max 2 events from one TX",
    );
    await client.query('rollback');
    expect(await rowCount('ptl_two')).toBe(0);
  });

  it('counts per transaction: each new transaction starts from zero', async () => {
    await limitedQueue('ptl_reset', 2);
    const client = await db.connect();
    for (let round = 0; round < 3; round++) {
      await inTransaction(client, async (tx) => {
        await tx.query(insert('ptl_reset'));
        await tx.query(insert('ptl_reset'));
      });
    }
    // Single-statement transactions (autocommit) each get their own count too.
    for (let i = 0; i < 5; i++) await client.query(insert('ptl_reset'));
    expect(await rowCount('ptl_reset')).toBe(11);
  });

  it('counts every insert path: both insert_event forms and insert_event_raw', async () => {
    await limitedQueue('ptl_paths', 3);
    const client = await db.connect();
    await client.query('begin');
    await client.query("select pgq.insert_event('ptl_paths', 't', 'd')");
    await client.query("select pgq.insert_event('ptl_paths', 't', 'd', 'a', 'b', 'c', 'd')");
    await client.query(
      "select pgq.insert_event_raw('ptl_paths', 100, now(), NULL, NULL, 't', 'd', NULL, NULL, NULL, NULL)",
    );
    await expectPgError(
      client.query(
        "select pgq.insert_event_raw('ptl_paths', NULL, NULL, NULL, NULL, 't', 'd', NULL, NULL, NULL, NULL)",
      ),
      "Queue 'ptl_paths' allows max 3 events from one TX",
    );
    await client.query('rollback');
  });

  it('limit 0 forbids every insert', async () => {
    await limitedQueue('ptl_zero', 0);
    await expectPgError(
      db.query(insert('ptl_zero')),
      "Queue 'ptl_zero' allows max 0 events from one TX",
    );
    expect(await rowCount('ptl_zero')).toBe(0);
  });

  it('NULL means unlimited', async () => {
    await limitedQueue('ptl_null', null);
    const client = await db.connect();
    await inTransaction(client, async (tx) => {
      await tx.query(
        "select pgq.insert_event('ptl_null', 't', g::text) from generate_series(1, 1000) g",
      );
    });
    expect(await rowCount('ptl_null')).toBe(1000);
  });

  it('counts each queue separately', async () => {
    await limitedQueue('ptl_q1', 1);
    await limitedQueue('ptl_q2', 1);
    const client = await db.connect();
    await inTransaction(client, async (tx) => {
      await tx.query(insert('ptl_q1'));
      await tx.query(insert('ptl_q2'));
    });
    expect([await rowCount('ptl_q1'), await rowCount('ptl_q2')]).toEqual([1, 1]);
  });

  it('counts concurrent transactions separately', async () => {
    await limitedQueue('ptl_concurrent', 2);
    const a = await db.connect();
    const b = await db.connect();
    await a.query('begin');
    await b.query('begin');
    for (let i = 0; i < 2; i++) {
      await a.query(insert('ptl_concurrent'));
      await b.query(insert('ptl_concurrent'));
    }
    await expectPgError(
      b.query(insert('ptl_concurrent')),
      "Queue 'ptl_concurrent' allows max 2 events from one TX",
    );
    await b.query('rollback');
    await a.query('commit');
    expect(await rowCount('ptl_concurrent')).toBe(2);
  });

  it('counts the events the transaction keeps: a rolled-back savepoint gives its quota back', async () => {
    await limitedQueue('ptl_savepoint', 2);
    const client = await db.connect();
    await inTransaction(client, async (tx) => {
      await tx.query(insert('ptl_savepoint'));
      await tx.query('savepoint s1');
      await tx.query(insert('ptl_savepoint'));
      await tx.query('rollback to savepoint s1');
      await tx.query(insert('ptl_savepoint'));
      // A released savepoint keeps its events, and their count.
      await tx.query('savepoint s2');
      await expectPgError(
        tx.query(insert('ptl_savepoint')),
        "Queue 'ptl_savepoint' allows max 2 events from one TX",
      );
      await tx.query('rollback to savepoint s2');
    });
    expect(await rowCount('ptl_savepoint')).toBe(2);
  });

  it('counts inserts made inside functions; a failed exception block gives its quota back', async () => {
    await limitedQueue('ptl_nested', 3);
    const client = await db.connect();
    await client.query('begin');
    await client.query(`
      do $$
      begin
        perform pgq.insert_event('ptl_nested', 't', '1');
        perform pgq.insert_event('ptl_nested', 't', '2');
        begin
          perform pgq.insert_event('ptl_nested', 't', 'undone');
          raise exception 'undo the block';
        exception when raise_exception then
          null;
        end;
        perform pgq.insert_event('ptl_nested', 't', '3');
      end $$`);
    await expectPgError(
      client.query(insert('ptl_nested')),
      "Queue 'ptl_nested' allows max 3 events from one TX",
    );
    await client.query('rollback');
  });

  it('set while a transaction is open, applies from the first event of that transaction on', async () => {
    await limitedQueue('ptl_late', null);
    const client = await db.connect();
    await client.query('begin');
    await client.query('select 1');
    await db.query("update pgq.queue set queue_per_tx_limit = 1 where queue_name = 'ptl_late'");
    await client.query(insert('ptl_late'));
    await expectPgError(
      client.query(insert('ptl_late')),
      "Queue 'ptl_late' allows max 1 events from one TX",
    );
    await client.query('rollback');
  });

  it('hostile queue names appear in the message as they are', async () => {
    const name = 'it\'s "odd" %s';
    await limitedQueue(name, 0);
    await expectPgError(
      db.query("select pgq.insert_event($1, 't', 'd')", [name]),
      `Queue '${name}' allows max 0 events from one TX`,
    );
  });
});
