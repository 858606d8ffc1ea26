import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { waitForLockWait } from '../pgq/consumer-helpers.js';
import { ageSub, eventPerTick, makeQueue, registerSub, subRows } from './coop-helpers.js';

const db = useTestDatabase();

/**
 * One subconsumer's transaction: take a batch, record each event in `handled` (primary key:
 * a second handling of an event fails the insert), finish. Returns the batch id, or null.
 */
async function work(
  client: pg.Client,
  queue: string,
  sub: string,
  dead: string | null,
): Promise<number | null> {
  await client.query('begin');
  try {
    const { rows } = await client.query(
      'select pgq_coop.next_batch($1, $2, $3, $4::interval) as b',
      [queue, 'workers', sub, dead],
    );
    const batch = rows[0]?.b;
    if (batch === null) {
      await client.query('commit');
      return null;
    }
    await client.query(
      `insert into handled (queue, ev_id, sub, batch)
       select $1, ev_id, $2, $3 from pgq.get_batch_events($3)`,
      [queue, sub, batch],
    );
    const finished = await client.query('select pgq_coop.finish_batch($1) as r', [batch]);
    expect(finished.rows[0]?.r).toBe(1);
    await client.query('commit');
    return Number(batch);
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

async function handledCounts(queue: string) {
  const { rows } = await db.query(
    `select count(*)::int as events, count(distinct ev_id)::int as distinct_events,
            count(distinct sub)::int as subs
       from handled where queue = $1`,
    [queue],
  );
  return rows[0];
}

describe('pgq_coop under concurrent subconsumers', () => {
  it('a second subconsumer waits for the first one and then gets the next batch', async () => {
    await makeQueue(db, 'turns');
    await registerSub(db, 'turns', 'main', 'a');
    await registerSub(db, 'turns', 'main', 'b');
    await eventPerTick(db, 'turns', ['1', '2']);
    const a = await db.connect();
    const b = await db.connect();
    await a.query('begin');
    await b.query('begin');
    const first = (await a.query("select pgq_coop.next_batch('turns', 'main', 'a') as b")).rows[0]
      .b;
    const pid = (await b.query('select pg_backend_pid() as pid')).rows[0]?.pid;
    const second = b.query("select pgq_coop.next_batch('turns', 'main', 'b') as b");
    await waitForLockWait(db, pid);
    await a.query('commit');
    const got = (await second).rows[0]?.b;
    await b.query('commit');
    expect(first).not.toBeNull();
    expect(got).not.toBeNull();
    expect(got).not.toBe(first);
    const rows = await subRows(db, 'turns');
    expect(rows.get('main.a')?.batch).toBe(Number(first));
    expect(rows.get('main.b')?.batch).toBe(Number(got));
  });

  it('four subconsumers polling at once while events arrive: each event handled once', async () => {
    await db.query(
      `create table handled (queue text, ev_id bigint, sub text, batch bigint,
                             primary key (queue, ev_id))`,
    );
    const queue = 'load';
    await makeQueue(db, queue);
    const subs = ['s1', 's2', 's3', 's4'];
    const clients = await Promise.all(subs.map(() => db.connect()));
    // Register before the first event, so the group starts before it.
    for (const sub of subs) await registerSub(db, queue, 'workers', sub);

    const total = 400;
    const producer = await db.connect();
    let produced = 0;
    const produce = (async () => {
      while (produced < total) {
        await producer.query('begin');
        for (let i = 0; i < 10; i++) {
          await producer.query("select pgq.insert_event($1, 'load', $2)", [
            queue,
            String(produced),
          ]);
          produced++;
        }
        await producer.query('commit');
        await producer.query('select pgq.ticker($1)', [queue]);
      }
      // A last tick after the last commit, so the last events are in a batch.
      await producer.query('select pgq.ticker($1)', [queue]);
    })();

    const batches: number[] = [];
    const workers = subs.map(async (sub, i) => {
      const client = clients[i] as pg.Client;
      const deadline = Date.now() + 50_000;
      while (Date.now() < deadline) {
        const batch = await work(client, queue, sub, '1 hour');
        if (batch !== null) batches.push(batch);
        else if (produced >= total && ((await handledCounts(queue))?.events ?? 0) >= total) return;
        else await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    await Promise.all([produce, ...workers]);

    expect(await handledCounts(queue)).toMatchObject({ events: total, distinct_events: total });
    expect(new Set(batches).size).toBe(batches.length);
    const rows = await subRows(db, queue);
    for (const sub of subs) expect(rows.get(`workers.${sub}`)?.batch).toBeNull();
  });

  it('a subconsumer whose connection dies mid-batch: a sibling takes its batch over', async () => {
    await db.query(
      `create table if not exists handled (queue text, ev_id bigint, sub text, batch bigint,
                                           primary key (queue, ev_id))`,
    );
    const queue = 'crash';
    await makeQueue(db, queue);
    for (const sub of ['victim', 'x', 'y']) await registerSub(db, queue, 'workers', sub);
    await eventPerTick(
      db,
      queue,
      Array.from({ length: 12 }, (_, i) => `e${i}`),
    );

    // The victim takes a batch (committed), reads it, and its server connection is killed.
    const victim = await db.connect();
    const taken = (
      await victim.query("select pgq_coop.next_batch($1, 'workers', 'victim') as b", [queue])
    ).rows[0]?.b;
    expect(taken).not.toBeNull();
    await victim.query('select * from pgq.get_batch_events($1)', [taken]);
    const victimPid = (await victim.query('select pg_backend_pid() as pid')).rows[0]?.pid;
    await db.query('select pg_terminate_backend($1)', [victimPid]);
    await victim.end().catch(() => {});
    // Its last sign of life is long enough ago (instead of waiting for a real hour).
    await ageSub(db, queue, 'workers.victim', '2 hours');

    const clients = [await db.connect(), await db.connect()];
    const seen: number[] = [];
    await Promise.all(
      ['x', 'y'].map(async (sub, i) => {
        for (;;) {
          const batch = await work(clients[i] as pg.Client, queue, sub, '1 hour');
          if (batch === null) return;
          seen.push(batch);
        }
      }),
    );
    expect(seen).toContain(Number(taken));
    expect(new Set(seen).size).toBe(seen.length);
    expect(await handledCounts(queue)).toMatchObject({ events: 12, distinct_events: 12 });
    expect((await subRows(db, queue)).has('workers.victim')).toBe(false);
  });
});
