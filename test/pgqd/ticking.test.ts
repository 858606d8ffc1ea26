/**
 * pgqd ticking and maintenance on three databases of the shared cluster (database_list, so
 * other test files' databases are never touched).
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { eventually, type PgqdProcess, usePgqd } from './helpers.js';

const db = useTestDatabase();
const pgqd = usePgqd();
const databases: string[] = [];
const pools = new Map<string, pg.Pool>();
let daemon: PgqdProcess;
let unlisted: string;

function on(database: string): pg.Pool {
  let pool = pools.get(database);
  if (!pool) {
    pool = db.pool({ database, max: 3 });
    pools.set(database, pool);
  }
  return pool;
}

beforeAll(async () => {
  databases.push(db.name);
  databases.push(await db.createDatabase('b', { template: db.cluster.templateDatabase }));
  databases.push(await db.createDatabase('c', { template: db.cluster.templateDatabase }));
  unlisted = await db.createDatabase('unlisted', { template: db.cluster.templateDatabase });
  await on(unlisted).query("select pgq.create_queue('left_alone')");
  const config = pgqd.writeConfig('ticking', {
    base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
    database_list: databases.join(', '),
  });
  daemon = pgqd.start([config]);
  await daemon.waitFor(/pgq 3\.5 found/);
});

afterAll(async () => {
  daemon.signal('SIGINT');
  expect(await daemon.exited).toBe(0);
});

describe('pgqd ticking', () => {
  it('ticks queues in all three databases, and consumers get their events', async () => {
    for (const database of databases) {
      const pool = on(database);
      await pool.query("select pgq.create_queue('q3')");
      await pool.query("select pgq.register_consumer('q3', 'c')");
      await pool.query("select pgq.insert_event('q3', 'type', $1)", [database]);
    }
    for (const database of databases) {
      const pool = on(database);
      // The queue's second tick may come before the event commits: read batches until it shows.
      const received: string[] = [];
      await eventually(
        async () => {
          const id = (await pool.query("select pgq.next_batch('q3', 'c') as id")).rows[0]?.id;
          if (id !== null) {
            const events = await pool.query('select ev_data from pgq.get_batch_events($1)', [id]);
            received.push(...events.rows.map((row) => row.ev_data as string));
            await pool.query('select pgq.finish_batch($1)', [id]);
          }
          return received;
        },
        (got) => got.length > 0,
      );
      expect(received).toEqual([database]);
    }
  });

  it('sends NOTIFY pgq_tick with the queue name after a tick that ends a non-empty batch', async () => {
    const pool = on(databases[1] as string);
    await pool.query(`select pgq.create_queue('notify "me"')`);
    const listener = await db.connect({ database: databases[1] });
    const got: string[] = [];
    listener.on('notification', (message) => {
      if (message.channel === 'pgq_tick') got.push(message.payload ?? '');
    });
    await listener.query('listen pgq_tick');
    await pool.query(`select pgq.insert_event('notify "me"', 't', 'x')`);
    await eventually(
      async () => got,
      (payloads) => payloads.includes('notify "me"'),
    );
    await listener.end();
  });

  it('ticks a queue with new events sooner than ticker_max_count/max_lag would, idle ones per idle_period', async () => {
    const pool = on(databases[2] as string);
    await pool.query("select pgq.create_queue('busy')");
    await pool.query("select pgq.create_queue('idle')");
    for (const queue of ['busy', 'idle']) {
      await pool.query("select pgq.set_queue_config($1, 'ticker_max_lag', '1 second')", [queue]);
      await pool.query("select pgq.set_queue_config($1, 'ticker_idle_period', '2 seconds')", [
        queue,
      ]);
    }
    for (let i = 0; i < 20; i++) {
      await pool.query("select pgq.insert_event('busy', 't', $1)", [String(i)]);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const ticks = async (queue: string) =>
      (
        await pool.query<{ gap: number; events: string }>(
          `select extract(epoch from tick_time - lag(tick_time) over w)::float8 as gap,
                  tick_event_seq - lag(tick_event_seq) over w as events
             from pgq.tick join pgq.queue on queue_id = tick_queue
            where queue_name = $1 window w as (order by tick_id) order by tick_id`,
          [queue],
        )
      ).rows.slice(1);
    // Upstream's policy would wait for 500 events or 1 s: ticks with few events, close together,
    // come from the low-latency policy.
    const busy = await eventually(
      () => ticks('busy'),
      (rows) => rows.filter((row) => Number(row.events) > 0 && row.gap < 0.5).length >= 2,
    );
    expect(busy.length).toBeGreaterThan(2);
    // The idle queue: after its first two ticks, never two within ticker_max_lag / 2.
    await eventually(
      () => ticks('idle'),
      (rows) => rows.length >= 3,
    );
    const idle = await ticks('idle');
    for (const row of idle.slice(1)) {
      expect(Number(row.events)).toBe(0);
      expect(row.gap).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('moves due retry events back into the queue', async () => {
    const pool = on(databases[0] as string);
    await pool.query("select pgq.create_queue('rq')");
    await pool.query("select pgq.register_consumer('rq', 'c')");
    await pool.query("select pgq.insert_event('rq', 't', 'again')");
    // Skip an empty first batch (the queue's second tick may precede the event).
    let first: string | null = null;
    const events = await eventually(
      async () => {
        first = (await pool.query("select pgq.next_batch('rq', 'c') as id")).rows[0]?.id;
        if (first === null) return [];
        const rows = (
          await pool.query<{ ev_id: string }>('select ev_id from pgq.get_batch_events($1)', [first])
        ).rows;
        if (rows.length === 0) await pool.query('select pgq.finish_batch($1)', [first]);
        return rows;
      },
      (rows) => rows.length > 0,
    ).then((rows) => ({ rows }));
    expect(events.rows).toHaveLength(1);
    await pool.query('select pgq.event_retry($1, $2, 0)', [first, events.rows[0]?.ev_id]);
    await pool.query('select pgq.finish_batch($1)', [first]);
    const retried = await eventually(
      async () => {
        const batch = (await pool.query("select pgq.next_batch('rq', 'c') as id")).rows[0]?.id;
        if (batch === null) return [];
        const rows = (
          await pool.query('select ev_data, ev_retry from pgq.get_batch_events($1)', [batch])
        ).rows;
        await pool.query('select pgq.finish_batch($1)', [batch]);
        return rows;
      },
      (rows) => rows.length > 0,
    );
    expect(retried).toEqual([{ ev_data: 'again', ev_retry: 1 }]);
  });

  it('runs extra maintenance steps, repeating each while it returns non-zero', async () => {
    const pool = on(databases[1] as string);
    await pool.query(`
      create table maint_calls (n serial, queue text);
      create function public.slice_maint(q text) returns integer language sql as $$
        insert into maint_calls (queue) values (q);
        select case when count(*) % 3 = 0 then 0 else 1 end::integer from maint_calls;
      $$;
      select pgq.create_queue('mq');
      update pgq.queue set queue_extra_maint = array['public.slice_maint']
       where queue_name = 'mq';`);
    const calls = await eventually(
      async () => (await pool.query('select count(*)::int as n from maint_calls')).rows[0]?.n,
      (n) => n >= 6,
    );
    // Each maintenance round calls it until it returns 0: rounds of three calls.
    expect(calls).toBeGreaterThanOrEqual(6);
    const queues = await pool.query('select distinct queue from maint_calls');
    expect(queues.rows).toEqual([{ queue: 'mq' }]);
  });

  it('leaves databases outside database_list alone', async () => {
    const pool = on(unlisted);
    await pool.query("select pgq.insert_event('left_alone', 't', 'x')");
    // By now every listed database has been ticked many times over.
    await daemon.waitFor(/\{ticks: [1-9]/);
    const { rows } = await pool.query('select count(*)::int as n from pgq.tick');
    expect(rows[0]?.n).toBe(1); // the one create_queue made
    const sessions = await pool.query(
      "select count(*)::int as n from pg_stat_activity where application_name = 'pgqd' and datname = $1",
      [unlisted],
    );
    expect(sessions.rows[0]?.n).toBe(0);
  });

  it('logs the periodic stats line', async () => {
    const line = await daemon.waitFor(/INFO \{ticks: \d+, maint: \d+, retry: \d+, errors: \d+\}$/);
    expect(line).toMatch(/^stderr:\d{4}-\d\d-\d\d /);
  });
});
