/**
 * The Prometheus metrics of `Monitor` + `MonitorMetrics` on a real database: counters move
 * by what was produced and consumed between two scrapes, a stopped ticker shows in the tick
 * age, a stopped consumer in its lag, rotation blocked names the consumer, retry events are
 * counted, and hostile names come back intact as label values.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Monitor, MonitorMetrics } from '../../src/monitor/index.js';
import { useTestDatabase } from '../harness/database.js';
import { until } from '../harness/until.js';
import { parsePromText } from './prom-text.js';

const db = useTestDatabase();
let monitor: Monitor;
const metrics = new MonitorMetrics();

async function scrape() {
  return parsePromText(await metrics.render(await monitor.snapshot()));
}

async function produce(queue: string, count: number): Promise<void> {
  await db.query('select pgq.insert_event($1, $2, $3) from generate_series(1, $4)', [
    queue,
    'demo',
    'payload',
    count,
  ]);
}

/** One batch of `consumer`, finished; returns its event ids. */
async function consumeBatch(queue: string, consumer: string): Promise<string[]> {
  const client = await db.pool().connect();
  try {
    const batch = (await client.query('select pgq.next_batch($1, $2) as id', [queue, consumer]))
      .rows[0].id;
    if (batch === null) return [];
    const events = await client.query('select ev_id from pgq.get_batch_events($1)', [batch]);
    await client.query('select pgq.finish_batch($1)', [batch]);
    return events.rows.map((r) => String(r.ev_id));
  } finally {
    client.release();
  }
}

const tick = (queue: string) => db.query('select pgq.ticker($1)', [queue]);

/** A queue that ticks at every pgq.ticker() call that finds new events. */
async function createQueue(queue: string): Promise<void> {
  await db.query('select pgq.create_queue($1)', [queue]);
  await db.query(`select pgq.set_queue_config($1, 'ticker_max_count', '1')`, [queue]);
}

beforeAll(async () => {
  monitor = new Monitor([db.url]);
});
afterAll(async () => {
  await monitor.close();
});

describe('skytools metrics', () => {
  it('moves the counters by what was produced and consumed between two scrapes', async () => {
    const q = 'flow';
    await createQueue(q);
    await db.query('select pgq.register_consumer($1, $2)', [q, 'reader']);
    await db.query('select pgq.register_consumer($1, $2)', [q, 'sleeper']);
    await produce(q, 5);
    await tick(q);
    await consumeBatch(q, 'reader');
    const first = await scrape();
    const labels = { database: db.name, queue: q };
    const reader = { ...labels, consumer: 'reader' };
    const sleeper = { ...labels, consumer: 'sleeper' };
    expect(first.value('skytools_up', { database: db.name })).toBe(1);
    expect(first.types.get('skytools_pgq_queue_events_total')).toBe('counter');
    expect(first.types.get('skytools_pgq_consumer_events_total')).toBe('counter');

    await produce(q, 7);
    await tick(q);
    const consumed = await consumeBatch(q, 'reader');
    expect(consumed).toHaveLength(7);
    await produce(q, 3); // not ticked yet: pending in the queue, in no batch
    const second = await scrape();

    const delta = (name: string, l: Record<string, string>) =>
      (second.value(name, l) ?? Number.NaN) - (first.value(name, l) ?? Number.NaN);
    expect(delta('skytools_pgq_queue_events_total', labels)).toBe(10);
    expect(delta('skytools_pgq_consumer_events_total', reader)).toBe(7);
    expect(delta('skytools_pgq_consumer_events_total', sleeper)).toBe(0);
    expect(second.value('skytools_pgq_queue_pending_events', labels)).toBe(3);
    expect(second.value('skytools_pgq_consumer_pending_events', reader)).toBe(0);
    // pending_events is upstream's estimate by event ids: it grows by what was ticked.
    expect(delta('skytools_pgq_consumer_pending_events', sleeper)).toBe(7);
    expect(second.value('skytools_pgq_consumer_batch_active', reader)).toBe(0);
    expect(second.value('skytools_pgq_consumer_retry_events', reader)).toBe(0);
    expect(second.value('skytools_pgq_queue_last_tick_id', labels)).toBeGreaterThan(
      first.value('skytools_pgq_queue_last_tick_id', labels) ?? Number.NaN,
    );
    expect(second.value('skytools_scrape_duration_seconds')).toBeGreaterThan(0);
    expect(
      second.value('skytools_database_scrape_duration_seconds', { database: db.name }),
    ).toBeGreaterThan(0);
  });

  it('shows a stopped ticker in the tick age and a stopped consumer in its growing lag', async () => {
    const q = 'stalled';
    await createQueue(q);
    await db.query('select pgq.register_consumer($1, $2)', [q, 'stopped']);
    await produce(q, 2);
    await tick(q);
    const labels = { database: db.name, queue: q };
    const consumer = { ...labels, consumer: 'stopped' };
    const first = await scrape();
    const age = first.value('skytools_pgq_queue_tick_age_seconds', labels) ?? Number.NaN;
    const lag = first.value('skytools_pgq_consumer_lag_seconds', consumer) ?? Number.NaN;
    // Events wait for a tick that does not come: the ticker lag grows with the tick age.
    await produce(q, 1);
    const later = await until(
      'the tick age to grow while nobody ticks',
      scrape,
      (m) => (m.value('skytools_pgq_queue_tick_age_seconds', labels) ?? 0) > age + 1,
    );
    expect(later.value('skytools_pgq_queue_ticker_lag_seconds', labels)).toBe(
      later.value('skytools_pgq_queue_tick_age_seconds', labels),
    );
    // The ticker comes back, the consumer stays away: its lag keeps growing, the queue's not.
    await tick(q);
    const ticked = await scrape();
    expect(ticked.value('skytools_pgq_queue_tick_age_seconds', labels)).toBeLessThan(age + 1);
    expect(ticked.value('skytools_pgq_queue_ticker_lag_seconds', labels)).toBe(0);
    expect(ticked.value('skytools_pgq_consumer_lag_seconds', consumer)).toBeGreaterThan(lag + 1);
    expect(
      (ticked.value('skytools_pgq_consumer_pending_events', consumer) ?? Number.NaN) -
        (first.value('skytools_pgq_consumer_pending_events', consumer) ?? Number.NaN),
    ).toBe(1);
  });

  it('names the consumer that blocks a due rotation, and counts its retry events', async () => {
    const q = 'rotating';
    await createQueue(q);
    await db.query(`select pgq.set_queue_config($1, 'rotation_period', '1 second')`, [q]);
    await db.query('select pgq.register_consumer($1, $2)', [q, 'laggard']);
    await db.query('select pgq.register_consumer($1, $2)', [q, 'keeper']);
    await produce(q, 4);
    await tick(q);
    // One event of keeper's batch goes to the retry queue.
    const client = await db.pool().connect();
    try {
      const batch = (await client.query('select pgq.next_batch($1, $2) as id', [q, 'keeper']))
        .rows[0].id;
      const ev = (await client.query('select ev_id from pgq.get_batch_events($1) limit 1', [batch]))
        .rows[0].ev_id;
      await client.query('select pgq.event_retry($1, $2, 3600)', [batch, ev]);
      await client.query('select pgq.finish_batch($1)', [batch]);
    } finally {
      client.release();
    }
    // The last switch of tables moves past laggard's position as a rotation's first step
    // does. A real step waits for every older transaction of the cluster, other test files'
    // too (pgq's own tests cover it); the monitor reads only the switch time.
    const before = (await db.query('select queue_switch_time from pgq.get_queue_info($1)', [q]))
      .rows[0]?.queue_switch_time as Date;
    await db.query(
      `update pgq.queue set queue_switch_time = pg_catalog.now() + interval '1 millisecond'
        where queue_name = $1`,
      [q],
    );
    await produce(q, 1);
    await tick(q);
    await consumeBatch(q, 'keeper');
    const labels = { database: db.name, queue: q };
    const blocked = await until(
      'the next rotation to be due',
      scrape,
      (m) => m.find('skytools_pgq_queue_rotation_blocked', labels).length > 0,
    );
    expect(
      blocked.find('skytools_pgq_queue_rotation_blocked', labels).map((s) => s.labels.consumer),
    ).toEqual(['laggard']);
    expect(
      blocked.value('skytools_pgq_queue_last_rotation_timestamp_seconds', labels),
    ).toBeGreaterThan(before.getTime() / 1000);
    expect(blocked.value('skytools_pgq_queue_rotation_period_seconds', labels)).toBe(1);
    expect(
      blocked.value('skytools_pgq_consumer_retry_events', { ...labels, consumer: 'keeper' }),
    ).toBe(1);
    expect(
      blocked.value('skytools_pgq_consumer_retry_events', { ...labels, consumer: 'laggard' }),
    ).toBe(0);
  });

  it('keeps quotes, backslashes, spaces and unicode of names intact in the labels', async () => {
    const q = 'we"ird \\ queue ü.x';
    const consumer = "o'brien\nline";
    await createQueue(q);
    await db.query('select pgq.register_consumer($1, $2)', [q, consumer]);
    await produce(q, 1);
    await tick(q);
    const m = await scrape();
    expect(m.find('skytools_pgq_queue_events_total', { queue: q })).toHaveLength(1);
    expect(m.value('skytools_pgq_queue_last_tick_id', { queue: q })).toBeGreaterThan(1);
    expect(m.find('skytools_pgq_consumer_lag_seconds', { queue: q, consumer })).toHaveLength(1);
  });

  it('reports a database it cannot read as down, and the others as usual', async () => {
    const broken = new Monitor([db.url, `${db.url}_missing`]);
    try {
      const snapshot = await broken.snapshot();
      const m = parsePromText(await new MonitorMetrics().render(snapshot));
      expect(m.value('skytools_up', { database: db.name })).toBe(1);
      expect(m.value('skytools_up', { database: `${db.name}_missing` })).toBe(0);
      expect(snapshot.databases[1]?.error).toMatch(/does not exist/);
      expect(
        m.find('skytools_pgq_queue_events_total', { database: db.name }).length,
      ).toBeGreaterThan(0);
    } finally {
      await broken.close();
    }
  });
});
