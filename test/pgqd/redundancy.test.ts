/**
 * Two pgqd processes on one database: one ticks, the other stands by on the ticker lock and
 * takes over when the first is killed with SIGKILL; a consumer reading throughout sees every
 * event exactly once, in batches that follow each other tick by tick.
 */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { poll, usePgqd } from './helpers.js';

const db = useTestDatabase();
const pgqd = usePgqd();

const lockHolders = async () =>
  (
    await db.query<{ pid: number }>(
      `select l.pid from pg_locks l join pg_database d on d.oid = l.database
        where l.locktype = 'advisory' and l.classid = 1885827428 and l.objid = 0
          and l.objsubid = 2 and l.granted and d.datname = current_database()`,
    )
  ).rows.map((row) => row.pid);

describe('two pgqd instances', () => {
  it('only one ticks; after kill -9 of it the other takes over; no batch lost or repeated', async () => {
    await db.query("select pgq.create_queue('rq'); select pgq.register_consumer('rq', 'c')");
    const config = pgqd.writeConfig('pair', {
      base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
      database_list: db.name,
    });
    const first = pgqd.start([config]);
    await first.waitFor(/pgq 3\.5 found/);
    await poll(lockHolders, (pids) => pids.length === 1);
    const second = pgqd.start([config]);
    await second.waitFor(/another pgqd holds the ticker lock of this database: standing by/);
    expect(await lockHolders()).toHaveLength(1);

    let produced = 0;
    let producing = true;
    const producer = (async () => {
      const pool = db.pool({ max: 1 });
      while (producing) {
        await pool.query("select pgq.insert_event('rq', 't', $1)", [String(++produced)]);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const seen: string[] = [];
    const batches: { prev: string; tick: string }[] = [];
    let consuming = true;
    const consumer = (async () => {
      const client = await db.connect();
      while (consuming) {
        const id = (await client.query("select pgq.next_batch('rq', 'c') as id")).rows[0]?.id;
        if (id === null) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        const info = (await client.query('select * from pgq.get_batch_info($1)', [id])).rows[0];
        batches.push({ prev: info.prev_tick_id, tick: info.tick_id });
        const events = await client.query('select ev_data from pgq.get_batch_events($1)', [id]);
        seen.push(...events.rows.map((row) => row.ev_data as string));
        await client.query('select pgq.finish_batch($1)', [id]);
      }
      await client.end();
    })();

    await poll(
      async () => seen.length,
      (n) => n >= 20,
    );
    first.signal('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await second.waitFor(/took over ticking \(ticker lock acquired\)/);
    const takenOver = seen.length;
    await poll(
      async () => seen.length,
      (n) => n >= takenOver + 20,
    );
    producing = false;
    await producer;
    await poll(
      async () => seen.length,
      (n) => n >= produced,
    );
    consuming = false;
    await consumer;

    expect(await lockHolders()).toHaveLength(1);
    expect(seen).toEqual(Array.from({ length: produced }, (_, i) => String(i + 1)));
    for (let i = 1; i < batches.length; i++) {
      expect(batches[i]?.prev).toBe(batches[i - 1]?.tick);
    }
    second.signal('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
