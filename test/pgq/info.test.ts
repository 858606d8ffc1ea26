import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  finishBatch,
  insertEvent,
  makeQueue,
  nextBatch,
  register,
  tick,
} from './consumer-helpers.js';

const db = useTestDatabase();

const queueColumns = [
  'queue_name',
  'queue_ntables',
  'queue_cur_table',
  'queue_rotation_period',
  'queue_switch_time',
  'queue_external_ticker',
  'queue_ticker_paused',
  'queue_ticker_max_count',
  'queue_ticker_max_lag',
  'queue_ticker_idle_period',
  'ticker_lag',
  'ev_per_sec',
  'ev_new',
  'last_tick_id',
];

const consumerColumns = [
  'queue_name',
  'consumer_name',
  'lag',
  'last_seen',
  'last_tick',
  'current_batch',
  'next_tick',
  'pending_events',
];

const batchColumns = [
  'queue_name',
  'consumer_name',
  'batch_start',
  'batch_end',
  'prev_tick_id',
  'tick_id',
  'lag',
  'seq_start',
  'seq_end',
];

async function setTickTime(queue: string, tickId: number, time: string): Promise<void> {
  await db.query(
    `update pgq.tick set tick_time = $3::timestamptz
      where tick_queue = (select queue_id from pgq.queue where queue_name = $1) and tick_id = $2`,
    [queue, tickId, time],
  );
}

beforeAll(async () => {
  // info_b: 10 events over 20 seconds between two ticks, 3 more since the last tick.
  await makeQueue(db, 'info_b');
  await insertEvent(db, 'info_b', 't', 'warm-up');
  const t2 = await tick(db, 'info_b');
  for (let i = 0; i < 10; i++) await insertEvent(db, 'info_b', 't', `e${i}`);
  const t3 = await tick(db, 'info_b');
  for (let i = 0; i < 3; i++) await insertEvent(db, 'info_b', 't', `new${i}`);
  await setTickTime('info_b', 1, '2020-01-01 00:00:00+00');
  await setTickTime('info_b', t2, '2020-01-01 00:00:10+00');
  await setTickTime('info_b', t3, '2020-01-01 00:00:30+00');
  // info_a: a single tick.
  await makeQueue(db, 'info_a');
  await db.query(
    `update pgq.queue set queue_ticker_max_count = 7, queue_ticker_paused = true
      where queue_name = 'info_a'`,
  );
});

describe('pgq.get_queue_info', () => {
  it('returns every queue in name order with its settings', async () => {
    const all = await db.query('select * from pgq.get_queue_info()');
    expect(all.fields.map((field) => field.name)).toEqual(queueColumns);
    expect(all.rows.map((row) => row.queue_name)).toEqual(['info_a', 'info_b']);
    expect(all.rows[0]).toMatchObject({
      queue_ntables: 3,
      queue_cur_table: 0,
      queue_external_ticker: false,
      queue_ticker_paused: true,
      queue_ticker_max_count: 7,
      ev_per_sec: null,
      last_tick_id: '1',
    });
    const nulls = await db.query('select * from pgq.get_queue_info(null)');
    expect(nulls.rows.map((row) => row.queue_name)).toEqual(['info_a', 'info_b']);
  });

  it('computes lag, rate and new events of one queue', async () => {
    const { rows } = await db.query(
      `select i.*, i.ticker_lag = now() - '2020-01-01 00:00:30+00'::timestamptz as lag_ok,
              i.queue_rotation_period = interval '2 hours' as period_ok
         from pgq.get_queue_info('info_b') i`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      queue_name: 'info_b',
      ev_per_sec: 10 / 30,
      ev_new: '3',
      last_tick_id: '3',
      lag_ok: true,
      period_ok: true,
    });
    const none = await db.query("select * from pgq.get_queue_info('no_such_queue')");
    expect(none.rows).toEqual([]);
  });

  it('measures the rate over the last 20 ticks', async () => {
    await makeQueue(db, 'info_rate');
    await insertEvent(db, 'info_rate', 't', 'warm-up');
    for (let i = 2; i <= 30; i++) {
      await insertEvent(db, 'info_rate', 't', `e${i}`);
      await insertEvent(db, 'info_rate', 't', `f${i}`);
      const id = await tick(db, 'info_rate');
      expect(id).toBe(i);
    }
    // Tick n at second 10 * n: 2 events per 10 seconds = 0.2/s, except the old ones.
    await db.query(
      `update pgq.tick set tick_time = '2020-01-01'::timestamptz + tick_id * interval '10 seconds'
        where tick_queue = (select queue_id from pgq.queue where queue_name = 'info_rate')`,
    );
    await setTickTime('info_rate', 1, '2000-01-01 00:00:00+00');
    const { rows } = await db.query("select ev_per_sec from pgq.get_queue_info('info_rate')");
    expect(rows[0]?.ev_per_sec).toBeCloseTo(0.2, 10);
  });
});

describe('pgq.get_consumer_info', () => {
  beforeAll(async () => {
    await register(db, 'info_b', 'z_behind');
    await db.query("select pgq.register_consumer_at('info_b', 'a_open', 2)");
    await register(db, 'info_a', 'a_open');
    await db.query("select pgq.register_consumer_at('info_b', 'z_behind', 1)");
    await nextBatch(db, 'info_b', 'a_open');
  });

  it('lists consumers by queue and name, with NULL meaning all', async () => {
    const all = await db.query('select * from pgq.get_consumer_info()');
    expect(all.fields.map((field) => field.name)).toEqual(consumerColumns);
    const pairs = all.rows.map((row) => [row.queue_name, row.consumer_name]);
    expect(pairs).toEqual([
      ['info_a', 'a_open'],
      ['info_b', 'a_open'],
      ['info_b', 'z_behind'],
    ]);
    for (const [sql, args, expected] of [
      ['select * from pgq.get_consumer_info($1)', ['info_b'], pairs.slice(1)],
      ['select * from pgq.get_consumer_info($1)', [null], pairs],
      ['select * from pgq.get_consumer_info($1, $2)', ['info_b', 'a_open'], [pairs[1]]],
      ['select * from pgq.get_consumer_info($1, $2)', [null, 'a_open'], pairs.slice(0, 2)],
      ['select * from pgq.get_consumer_info($1, $2)', [null, null], pairs],
      ['select * from pgq.get_consumer_info($1, $2)', ['info_b', 'nobody'], []],
      ['select * from pgq.get_consumer_info($1)', ['no_such_queue'], []],
    ] as [string, unknown[], unknown[]][]) {
      const { rows } = await db.query(sql, args);
      expect(rows.map((row) => [row.queue_name, row.consumer_name])).toEqual(expected);
    }
  });

  it('computes lag, last_seen, position and pending events', async () => {
    const { rows } = await db.query(
      `select i.*,
              i.lag = now() - t.tick_time as lag_ok,
              i.last_seen = now() - s.sub_active as seen_ok
         from pgq.get_consumer_info('info_b') i
         join pgq.consumer c on c.co_name = i.consumer_name
         join pgq.queue q on q.queue_name = i.queue_name
         join pgq.subscription s on s.sub_queue = q.queue_id and s.sub_consumer = c.co_id
         join pgq.tick t on t.tick_queue = q.queue_id and t.tick_id = s.sub_last_tick
        order by i.consumer_name`,
    );
    const batch = await db.query(
      "select sub_batch from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer where c.co_name = 'a_open' and sub_next_tick is not null",
    );
    expect(rows).toMatchObject([
      {
        consumer_name: 'a_open',
        last_tick: '2',
        current_batch: batch.rows[0]?.sub_batch,
        next_tick: '3',
        pending_events: '10',
        lag_ok: true,
        seen_ok: true,
      },
      {
        consumer_name: 'z_behind',
        last_tick: '1',
        current_batch: null,
        next_tick: null,
        pending_events: '10',
        lag_ok: true,
        seen_ok: true,
      },
    ]);
  });

  it('shows cooperative subconsumers with NULL position', async () => {
    await db.query("insert into pgq.consumer (co_name) values ('z_behind.sub')");
    await db.query(
      `insert into pgq.subscription (sub_id, sub_queue, sub_consumer)
       select s.sub_id, s.sub_queue, (select co_id from pgq.consumer where co_name = 'z_behind.sub')
         from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
        where c.co_name = 'z_behind'`,
    );
    const { rows } = await db.query(
      "select * from pgq.get_consumer_info('info_b', 'z_behind.sub')",
    );
    expect(rows).toMatchObject([
      { consumer_name: 'z_behind.sub', lag: null, last_tick: null, pending_events: null },
    ]);
    expect(rows[0]?.last_seen).not.toBeNull();
  });
});

describe('pgq.get_batch_info', () => {
  it('describes an open batch', async () => {
    await makeQueue(db, 'info_batch');
    await register(db, 'info_batch', 'c');
    await insertEvent(db, 'info_batch', 't', 'x');
    await insertEvent(db, 'info_batch', 't', 'y');
    const t2 = await tick(db, 'info_batch');
    const batchId = (await nextBatch(db, 'info_batch', 'c')) as number;
    const { rows, fields } = await db.query(
      `select b.*, b.lag = now() - b.batch_end as lag_ok,
              b.batch_start = t1.tick_time and b.batch_end = t2.tick_time as times_ok
         from pgq.get_batch_info($1) b
         join pgq.queue q on q.queue_name = b.queue_name
         join pgq.tick t1 on t1.tick_queue = q.queue_id and t1.tick_id = b.prev_tick_id
         join pgq.tick t2 on t2.tick_queue = q.queue_id and t2.tick_id = b.tick_id`,
      [batchId],
    );
    expect(fields.map((field) => field.name).slice(0, batchColumns.length)).toEqual(batchColumns);
    expect(rows).toMatchObject([
      {
        queue_name: 'info_batch',
        consumer_name: 'c',
        prev_tick_id: '1',
        tick_id: String(t2),
        seq_start: '1',
        seq_end: '2',
        lag_ok: true,
        times_ok: true,
      },
    ]);
    await finishBatch(db, batchId);
  });

  it('gives one NULL row for an unknown or finished batch', async () => {
    for (const id of [987654, null]) {
      const { rows } = await db.query('select * from pgq.get_batch_info($1)', [id]);
      expect(rows).toEqual([Object.fromEntries(batchColumns.map((name) => [name, null]))]);
    }
  });
});
