import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  ageTicks,
  eventSeq,
  expectPgError,
  lastTickId,
  queueId,
  tickIds,
} from './queue-core-helpers.js';

const db = useTestDatabase();

async function ticker(queue: string) {
  const { rows } = await db.query<{ t: string | null }>('select pgq.ticker($1) as t', [queue]);
  const id = rows[0]?.t;
  return id === null || id === undefined ? null : Number(id);
}

async function configure(queue: string, settings: Record<string, string>): Promise<void> {
  for (const [param, value] of Object.entries(settings)) {
    await db.query('select pgq.set_queue_config($1, $2, $3)', [queue, param, value]);
  }
}

/** Create a queue whose event sequence has handed out one event, and tick past that event. */
async function warmQueue(queue: string, settings: Record<string, string> = {}): Promise<void> {
  await db.query('select pgq.create_queue($1)', [queue]);
  await configure(queue, settings);
  await db.query("select pgq.insert_event($1, 'warm', '')", [queue]);
  // Only one tick so far: the ticker ticks at once.
  expect(await ticker(queue)).toBe(2);
}

async function insertEvents(queue: string, count: number): Promise<void> {
  await db.query("select pgq.insert_event($1, 't', g::text) from generate_series(1, $2) g", [
    queue,
    count,
  ]);
}

/** A client that records the WARNING/NOTICE messages the server sends it. */
async function listeningClient(): Promise<{ client: pg.Client; messages: string[] }> {
  const client = await db.connect();
  const messages: string[] = [];
  client.on('notice', (notice) => messages.push(`${notice.severity}: ${notice.message}`));
  return { client, messages };
}

describe('pgq.ticker(queue): when to tick', () => {
  it('ticks at once when the queue has one tick or none', async () => {
    await db.query("select pgq.create_queue('tk_first')");
    expect(await tickIds(db, 'tk_first')).toEqual([1]);
    expect(await ticker('tk_first')).toBe(2);
    // Without new events and with a fresh last tick, nothing more.
    expect(await ticker('tk_first')).toBeNull();
    // No tick at all (e.g. deleted by hand): tick.
    await db.query(
      "delete from pgq.tick where tick_queue = (select queue_id from pgq.queue where queue_name = 'tk_first')",
    );
    expect(await ticker('tk_first')).toBe(3);
  });

  it('stores the event sequence without advancing it, and the current snapshot', async () => {
    await warmQueue('tk_store', { ticker_max_lag: '0' });
    await insertEvents('tk_store', 3);
    const before = await eventSeq(db, 'tk_store');
    const open = await db.connect();
    await open.query('begin');
    const { rows: txid } = await open.query('select txid_current()::text as x');
    const tick = await ticker('tk_store');
    await open.query('rollback');
    expect(tick).toBe(3);
    expect(await eventSeq(db, 'tk_store')).toBe(before);
    const { rows } = await db.query(
      `select tick_event_seq::int as seq,
              not txid_visible_in_snapshot($3::bigint, tick_snapshot) as open_tx_invisible
         from pgq.tick where tick_queue = $1 and tick_id = $2`,
      [await queueId(db, 'tk_store'), tick, txid[0]?.x],
    );
    expect(rows[0]).toEqual({ seq: before, open_tx_invisible: true });
  });

  it('with new events: ticks when ticker_max_count of them exist', async () => {
    await warmQueue('tk_count', {
      ticker_max_count: '5',
      ticker_max_lag: '1 hour',
      ticker_idle_period: '1 hour',
    });
    await insertEvents('tk_count', 4);
    expect(await ticker('tk_count')).toBeNull();
    await insertEvents('tk_count', 1);
    expect(await ticker('tk_count')).toBe(3);
    // Counting starts again from the new tick.
    await insertEvents('tk_count', 4);
    expect(await ticker('tk_count')).toBeNull();
    await insertEvents('tk_count', 6);
    expect(await ticker('tk_count')).toBe(4);
  });

  it('with new events: ticks when the last tick is older than ticker_max_lag', async () => {
    await warmQueue('tk_lag', { ticker_max_lag: '3 seconds' });
    await insertEvents('tk_lag', 1);
    expect(await ticker('tk_lag')).toBeNull();
    await ageTicks(db, 'tk_lag', 2);
    expect(await ticker('tk_lag')).toBeNull();
    await ageTicks(db, 'tk_lag', 1.1);
    expect(await ticker('tk_lag')).toBe(3);
  });

  it('without new events: no tick while the last tick is younger than ticker_max_lag / 2', async () => {
    await warmQueue('tk_idle_half', { ticker_max_lag: '10 seconds', ticker_idle_period: '0' });
    await ageTicks(db, 'tk_idle_half', 4.5);
    expect(await ticker('tk_idle_half')).toBeNull();
    await ageTicks(db, 'tk_idle_half', 1);
    expect(await ticker('tk_idle_half')).toBe(3);
  });

  it('without new events: the gaps double up to ticker_idle_period', async () => {
    const queue = 'tk_idle_growth';
    await db.query('select pgq.create_queue($1)', [queue]);
    await configure(queue, { ticker_max_lag: '3 seconds', ticker_idle_period: '60 seconds' });
    expect(await ticker(queue)).toBe(2);
    const client = await db.connect();
    const id = await queueId(db, queue);
    const step = 0.5;
    // Let 400 virtual seconds pass in steps, running the ticker after each step.
    for (let elapsed = 0; elapsed < 400; elapsed += step) {
      await client.query(
        `update pgq.tick set tick_time = tick_time - interval '${step} seconds' where tick_queue = ${id};
         select pgq.ticker('${queue}')`,
      );
    }
    const { rows } = await db.query<{ gap: number }>(
      `select extract(epoch from tick_time - lag(tick_time) over (order by tick_id))::float8 as gap
         from pgq.tick where tick_queue = $1 order by tick_id`,
      [id],
    );
    const gaps = rows.slice(2).map((row) => row.gap);
    // Expected about 1.5, 3, 6, 12, 24, 48, then 60 each: every gap is due at
    // max(ticker_max_lag / 2, min(2 × previous gap, ticker_idle_period)), and comes within
    // one step of that.
    let previous = rows[1]?.gap ?? 0;
    for (const gap of gaps) {
      const due = Math.max(1.5, Math.min(2 * previous, 60));
      expect(gap).toBeGreaterThanOrEqual(due - 0.05);
      expect(gap).toBeLessThanOrEqual(due + step + 0.05);
      previous = gap;
    }
    expect(gaps[0]).toBeLessThanOrEqual(1.5 + step + 0.05);
    expect(gaps.length).toBeGreaterThanOrEqual(9);
    for (const gap of gaps.slice(-3)) {
      expect(gap).toBeGreaterThanOrEqual(60 - 0.05);
      expect(gap).toBeLessThanOrEqual(60 + step + 0.05);
    }
  });

  it('numbers ticks from each queue’s own tick sequence', async () => {
    await db.query("select pgq.create_queue('tk_seq_a'), pgq.create_queue('tk_seq_b')");
    await configure('tk_seq_a', { ticker_max_lag: '0', ticker_idle_period: '0' });
    await configure('tk_seq_b', { ticker_max_lag: '0', ticker_idle_period: '0' });
    for (let i = 0; i < 3; i++) await ticker('tk_seq_a');
    await ticker('tk_seq_b');
    expect(await tickIds(db, 'tk_seq_a')).toEqual([1, 2, 3, 4]);
    expect(await tickIds(db, 'tk_seq_b')).toEqual([1, 2]);
    const { rows } = await db.query<{ v: string }>(
      `select pgq.seq_getval(queue_tick_seq)::text as v from pgq.queue
        where queue_name = 'tk_seq_a'`,
    );
    expect(rows[0]?.v).toBe('4');
  });
});

describe('pgq.ticker(queue): errors and warnings', () => {
  it('rejects unknown and NULL queues', async () => {
    await expectPgError(db.query("select pgq.ticker('tk_nope')"), 'no such queue');
    await expectPgError(db.query('select pgq.ticker(NULL::text)'), 'no such queue');
  });

  it('refuses paused and externally ticked queues', async () => {
    await db.query("select pgq.create_queue('tk_paused'), pgq.create_queue('tk_external')");
    await configure('tk_paused', { ticker_paused: 'true' });
    await configure('tk_external', { external_ticker: 'true' });
    await expectPgError(
      db.query("select pgq.ticker('tk_paused')"),
      'Ticker has been paused for this queue',
    );
    await expectPgError(
      db.query("select pgq.ticker('tk_external')"),
      'This queue has external tick source.',
    );
    expect(await tickIds(db, 'tk_paused')).toEqual([1]);
    expect(await tickIds(db, 'tk_external')).toEqual([1]);
  });

  it('raises on a last tick from the future (xmin past the current txid)', async () => {
    await db.query("select pgq.create_queue('tk_invalid')");
    const id = await queueId(db, 'tk_invalid');
    const client = await db.connect();
    await client.query('begin');
    const { rows } = await client.query<{ x: string }>('select txid_current()::text as x');
    const cur = BigInt(rows[0]?.x ?? 0);
    const future = cur + 1000n;
    await client.query(
      `insert into pgq.tick (tick_queue, tick_id, tick_snapshot, tick_event_seq)
       values ($1, 100, $2::txid_snapshot, 1)`,
      [id, `${future}:${future}:`],
    );
    await expectPgError(
      client.query("select pgq.ticker('tk_invalid')"),
      `Invalid PgQ state: old xmin=${future}, old xmax=${future}, cur txid=${cur}`,
    );
    await client.query('rollback');
  });

  it('warns about a last tick whose xmax is past the current txid', async () => {
    await db.query("select pgq.create_queue('tk_dubious')");
    const id = await queueId(db, 'tk_dubious');
    const { client, messages } = await listeningClient();
    await client.query('begin');
    const { rows } = await client.query<{ x: string }>('select txid_current()::text as x');
    const cur = BigInt(rows[0]?.x ?? 0);
    await client.query(
      `insert into pgq.tick (tick_queue, tick_id, tick_snapshot, tick_event_seq)
       values ($1, 100, $2::txid_snapshot, 1)`,
      [id, `${cur - 1n}:${cur + 500n}:`],
    );
    await client.query("select pgq.ticker('tk_dubious')");
    await client.query('rollback');
    expect(messages).toEqual([
      `WARNING: Dubious PgQ state: old xmax=${cur + 500n}, cur txid=${cur}`,
    ]);
  });

  it('warns when the event sequence is behind the last tick', async () => {
    await warmQueue('tk_negative');
    await insertEvents('tk_negative', 2);
    const seq = await eventSeq(db, 'tk_negative');
    await db.query(
      `update pgq.tick set tick_event_seq = 1000
        where tick_queue = (select queue_id from pgq.queue where queue_name = 'tk_negative')
          and tick_id = 2`,
    );
    const { client, messages } = await listeningClient();
    await client.query("select pgq.ticker('tk_negative')");
    expect(messages).toEqual([`WARNING: Negative new_events?  old=1000 cur=${seq}`]);
  });
});

describe('pgq.ticker(): all queues', () => {
  it('ticks every queue that is neither paused nor external and counts the ticks', async () => {
    // Leave the other tests' queues out of this count.
    await db.query('update pgq.queue set queue_ticker_paused = true');
    await db.query(
      "select pgq.create_queue('all_a'), pgq.create_queue('all_b'), pgq.create_queue('all_paused'), pgq.create_queue('all_ext')",
    );
    await configure('all_paused', { ticker_paused: 'true' });
    await configure('all_ext', { external_ticker: 'true' });
    // Each new queue has one tick, so both plain queues tick now.
    expect((await db.query('select pgq.ticker() as n')).rows[0]?.n).toBe('2');
    // Nothing due right after.
    expect((await db.query('select pgq.ticker() as n')).rows[0]?.n).toBe('0');
    await configure('all_b', { ticker_max_lag: '0', ticker_idle_period: '0' });
    expect((await db.query('select pgq.ticker() as n')).rows[0]?.n).toBe('1');
    expect(await tickIds(db, 'all_a')).toEqual([1, 2]);
    expect(await tickIds(db, 'all_b')).toEqual([1, 2, 3]);
    expect(await tickIds(db, 'all_paused')).toEqual([1]);
    expect(await tickIds(db, 'all_ext')).toEqual([1]);
  });
});

describe('pgq.ticker(queue, tick_id, time, event_seq): external ticks', () => {
  it('inserts the given tick and moves both sequences forward, never back', async () => {
    await db.query("select pgq.create_queue('ext_q')");
    await configure('ext_q', { external_ticker: 'true' });
    const id = await queueId(db, 'ext_q');
    const r = await db.query("select pgq.ticker('ext_q', 10, '2020-01-02 03:04:05+00', 500) as t");
    expect(r.rows[0]?.t).toBe('10');
    const seqs = async () =>
      (
        await db.query<{ tick: string; ev: string }>(
          `select pgq.seq_getval(queue_tick_seq)::text as tick, pgq.seq_getval(queue_event_seq)::text as ev
             from pgq.queue where queue_name = 'ext_q'`,
        )
      ).rows[0];
    expect(await seqs()).toEqual({ tick: '10', ev: '500' });

    await db.query("select pgq.ticker('ext_q', 11, '2020-01-02 03:04:06+00', 100)");
    expect(await seqs()).toEqual({ tick: '11', ev: '500' });
    const { rows } = await db.query(
      `select tick_id::int, tick_time = '2020-01-02 03:04:05+00' as t1, tick_event_seq::int as seq
         from pgq.tick where tick_queue = $1 order by tick_id`,
      [id],
    );
    expect(rows).toEqual([
      { tick_id: 1, t1: false, seq: 1 },
      { tick_id: 10, t1: true, seq: 500 },
      { tick_id: 11, t1: false, seq: 100 },
    ]);
    // Producers continue after the copied position.
    const ev = await db.query("select pgq.insert_event('ext_q', 't', 'd') as id");
    expect(ev.rows[0]?.id).toBe('501');
    // A tick id that exists already is refused by the primary key.
    await expect(db.query("select pgq.ticker('ext_q', 11, now(), 600)")).rejects.toMatchObject({
      code: '23505',
    });
  });

  it('refuses queues that are not external, paused, unknown or NULL', async () => {
    await db.query("select pgq.create_queue('ext_plain'), pgq.create_queue('ext_paused')");
    await configure('ext_paused', { external_ticker: 'true', ticker_paused: 'true' });
    for (const name of ['ext_plain', 'ext_paused', 'ext_nope', 'it\'s "odd"']) {
      await expectPgError(
        db.query('select pgq.ticker($1, 5, now(), 5)', [name]),
        `queue not found or ticker disabled: ${name}`,
      );
    }
    await expectPgError(
      db.query('select pgq.ticker(NULL, 5, now(), 5)'),
      'queue not found or ticker disabled: <NULL>',
    );
    expect(await tickIds(db, 'ext_plain')).toEqual([1]);
    expect(await tickIds(db, 'ext_paused')).toEqual([1]);
  });
});

describe('pgq.force_tick', () => {
  it('moves the event sequence past 2 × ticker_max_count + 1000 so the next run ticks', async () => {
    await warmQueue('ft_q');
    await insertEvents('ft_q', 3); // event sequence at 4
    expect(await eventSeq(db, 'ft_q')).toBe(4);
    expect(await ticker('ft_q')).toBeNull();
    const forced = await db.query("select pgq.force_tick('ft_q') as t");
    expect(forced.rows[0]?.t).toBe('2'); // the last tick, unchanged
    // nextval (5) + 2 × 500 + 1000
    expect(await eventSeq(db, 'ft_q')).toBe(2005);
    expect(await ticker('ft_q')).toBe(3);
    expect((await db.query("select pgq.force_tick('ft_q') as t")).rows[0]?.t).toBe('3');
  });

  it('uses the queue’s ticker_max_count', async () => {
    await warmQueue('ft_small', { ticker_max_count: '10' });
    const before = await eventSeq(db, 'ft_small');
    await db.query("select pgq.force_tick('ft_small')");
    expect(await eventSeq(db, 'ft_small')).toBe(before + 1 + 2 * 10 + 1000);
  });

  it('loops until the tick id changes with a ticker running', async () => {
    await warmQueue('ft_loop');
    const start = await lastTickId(db, 'ft_loop');
    let current = start;
    for (let i = 0; i < 5 && current === start; i++) {
      current = Number((await db.query("select pgq.force_tick('ft_loop') as t")).rows[0]?.t);
      await db.query("select pgq.ticker('ft_loop')"); // the daemon's part
    }
    current = Number((await db.query("select pgq.force_tick('ft_loop') as t")).rows[0]?.t);
    expect(current).toBeGreaterThan(start ?? 0);
  });

  it('leaves paused and external queues alone; unknown queues give NULL', async () => {
    await db.query("select pgq.create_queue('ft_paused'), pgq.create_queue('ft_ext')");
    await configure('ft_paused', { ticker_paused: 'true' });
    await configure('ft_ext', { external_ticker: 'true' });
    for (const name of ['ft_paused', 'ft_ext']) {
      const before = await eventSeq(db, name);
      const r = await db.query('select pgq.force_tick($1) as t', [name]);
      expect(r.rows[0]?.t, name).toBe('1');
      expect(await eventSeq(db, name)).toBe(before);
    }
    expect((await db.query("select pgq.force_tick('ft_nope') as t")).rows[0]?.t).toBeNull();
    expect((await db.query('select pgq.force_tick(NULL) as t')).rows[0]?.t).toBeNull();
  });
});
