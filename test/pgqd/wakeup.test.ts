/**
 * pgqd's wake-up: producers send NOTIFY pgq_wakeup while pgqd sleeps (the flag
 * pgq.ticker_wakeup), so a commit into a quiet queue is ticked at once; a pass ticks events
 * whose transaction committed after the tick that counted them (late events). The SQL side by
 * hand, then the daemon in a database of its own.
 */

import type pg from 'pg';
import pino from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { Pgqd, pgqdSettings } from '../../src/ticker/index.js';
import { useTestDatabase } from '../harness/database.js';
import { poll } from './helpers.js';

const db = useTestDatabase();

interface PassRow {
  queue_name: string | null;
  tick_id: string | null;
  new_events: string;
  late_events: boolean;
  waiting: boolean;
  next_pass: { seconds?: number; minutes?: number } | null;
}

async function pass(notified: string[] = [], sleep: string | null = null): Promise<PassRow[]> {
  const { rows } = await db.query<PassRow>(
    'select * from pgq.ticker_pass($1::interval, $2::text[], $3::interval)',
    ['0', notified, sleep],
  );
  return rows;
}

const flag = async () =>
  (await db.query("select pg_sequence_last_value('pgq.ticker_wakeup') as v")).rows[0]?.v as
    | string
    | null;

/**
 * The notifications a listener got on pgq_wakeup, up to a marker NOTIFY sent after `work`:
 * notifications of one session arrive in commit order, so what came before the marker is
 * everything `work` caused.
 */
async function wakeupsOf(work: () => Promise<void>): Promise<string[]> {
  const listener = await db.connect();
  try {
    const got: string[] = [];
    listener.on('notification', (message) => got.push(message.payload ?? ''));
    await listener.query('listen pgq_wakeup');
    await work();
    await db.query("select pg_notify('pgq_wakeup', 'marker')");
    await poll(
      async () => got.includes('marker'),
      (seen) => seen,
    );
    return got.slice(0, got.indexOf('marker'));
  } finally {
    await listener.end();
  }
}

describe('pgq.ticker_pass with wake-ups', () => {
  beforeAll(async () => {
    await db.query("select pgq.create_queue('w1'), pgq.create_queue('w2')");
    await pass(); // the second ticks of new queues
  });

  it('sets the flag on an idle pass; producers then send one NOTIFY per transaction, whatever the path', async () => {
    const rows = await pass([], '1 minute');
    expect(rows.map((row) => row.queue_name)).toEqual([null]);
    expect(Number(await flag())).toBeGreaterThan(Date.now() / 1000 + 50);
    const got = await wakeupsOf(async () => {
      const client = await db.connect();
      try {
        await client.query('begin');
        for (let i = 0; i < 50; i++) await client.query("select pgq.insert_event('w1', 't', 'x')");
        await client.query('commit');
      } finally {
        await client.end();
      }
      await db.query("select pgq.insert_events('w2', null, array['a', 'b'])");
      await db.query(
        "select pgq.insert_event_raw('w2', null, null, null, null, 't', 'raw', null, null, null, null)",
      );
      await db.query("select pgq.current_event_table('w1')");
      await db.query("select pgq.force_tick('w2')");
      await db.query("begin; select pgq.insert_event('w1', 't', 'gone'); rollback");
    });
    expect(got).toEqual(['w1', 'w2', 'w2', 'w1', 'w2']);
  });

  it('clears the flag on a pass that leaves a queue busy; producers are then silent', async () => {
    const rows = await pass([], '1 minute');
    expect(rows.some((row) => row.queue_name === 'w1' && row.tick_id !== null)).toBe(true);
    expect(await flag()).toBeNull();
    const got = await wakeupsOf(async () => {
      await db.query("select pgq.insert_event('w1', 't', 'x')");
    });
    expect(got).toEqual([]);
  });

  it('an expired flag (a pgqd that died) wakes nobody', async () => {
    await pass();
    await db.query("select setval('pgq.ticker_wakeup', extract(epoch from now())::bigint - 5)");
    const got = await wakeupsOf(async () => {
      await db.query("select pgq.insert_event('w1', 't', 'x')");
    });
    expect(got).toEqual([]);
    await db.query("select setval('pgq.ticker_wakeup', 1, false)");
  });

  it('ticks an event whose transaction was in flight at the tick that counted it', async () => {
    await pass();
    const producer = await db.connect();
    try {
      await producer.query('begin');
      await producer.query("select pgq.insert_event('w1', 't', 'late')");
      const counted = (await pass()).find((row) => row.queue_name === 'w1');
      expect(counted).toMatchObject({ new_events: '1', late_events: false });
      await producer.query('commit');
    } finally {
      await producer.end();
    }
    const late = (await pass()).find((row) => row.queue_name === 'w1');
    expect(late).toMatchObject({ new_events: '0', late_events: true });
    expect(late?.tick_id).not.toBeNull();
    await db.query("select pgq.register_consumer_at('w1', 'late_reader', $1)", [
      Number(late?.tick_id) - 1,
    ]);
    const batch = (await db.query("select pgq.next_batch('w1', 'late_reader') as id")).rows[0]?.id;
    const events = await db.query('select ev_data from pgq.get_batch_events($1)', [batch]);
    expect(events.rows.map((row) => row.ev_data)).toEqual(['late']);
    // Nothing late any more: no tick.
    expect((await pass()).find((row) => row.queue_name === 'w1')).toBeUndefined();
  });

  it('ticks a queue named by a NOTIFY although the event counter says nothing is new', async () => {
    await pass();
    const producer = await db.connect();
    try {
      await producer.query('begin');
      await producer.query("select pgq.insert_event('w2', 't', 'notified')");
      await pass(); // counts it, cannot see it
      await producer.query('commit');
    } finally {
      await producer.end();
    }
    await pass(); // the late-events look (the window had events) ticks it ...
    // ... and a name given for a queue with nothing late makes no tick.
    expect((await pass(['w2'])).find((row) => row.queue_name === 'w2')).toBeUndefined();
  });
});

describe('pgqd with wake-ups', () => {
  let quiet: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    quiet = await db.createDatabase('quiet', { template: db.cluster.templateDatabase });
    pool = db.pool({ database: quiet, max: 2 });
    // Nothing but a producer's NOTIFY can make this queue tick within the hour: idle ticks
    // and the lag rule are an hour away, and so is pgqd's own poll.
    await pool.query(`select pgq.create_queue('quiet');
      select pgq.set_queue_config('quiet', 'ticker_idle_period', '1 hour');
      select pgq.set_queue_config('quiet', 'ticker_max_lag', '1 hour');
      select pgq.register_consumer('quiet', 'reader')`);
  });

  it('ticks a commit into a quiet queue without waiting for ticker_idle_period or ticker_period', async () => {
    const ticks: Array<{ queue: string; newEvents: number }> = [];
    const daemon = new Pgqd(
      pgqdSettings({
        baseConnstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
        databaseList: [quiet],
        tickerPeriod: 3600,
      }),
      {
        logger: pino({ level: 'silent' }),
        onTick: (_database, queue, _tickId, newEvents) => ticks.push({ queue, newEvents }),
      },
    );
    const controller = new AbortController();
    const running = daemon.start(controller.signal);
    try {
      // pgqd sleeps once it has set the flag (after the second tick of the new queue).
      await poll(
        async () =>
          (await pool.query("select pg_sequence_last_value('pgq.ticker_wakeup') as v")).rows[0]?.v,
        (value) => value !== null,
      );
      const listener = await db.connect({ database: quiet });
      try {
        const ticked: string[] = [];
        listener.on('notification', (message) => ticked.push(message.payload ?? ''));
        await listener.query('listen pgq_tick');
        const before = ticks.length;
        await pool.query("select pgq.insert_event('quiet', 't', 'now')");
        await poll(
          async () => ticked.includes('quiet'),
          (seen) => seen,
        );
        expect(ticks.slice(before)).toContainEqual({ queue: 'quiet', newEvents: 1 });
      } finally {
        await listener.end();
      }
      const batch = (await pool.query("select pgq.next_batch('quiet', 'reader') as id")).rows[0]
        ?.id;
      const events = await pool.query('select ev_data from pgq.get_batch_events($1)', [batch]);
      expect(events.rows.map((row) => row.ev_data)).toContain('now');
    } finally {
      controller.abort();
      await running;
    }
    // A pgqd that stops clears the flag: producers stop notifying at once.
    const { rows } = await pool.query("select pg_sequence_last_value('pgq.ticker_wakeup') as v");
    expect(rows[0]?.v).toBeNull();
  });
});
