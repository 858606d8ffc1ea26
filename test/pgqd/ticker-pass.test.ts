/** pgq.ticker_pass(): the SQL side of pgqd's low-latency policy, called by hand (no daemon). */
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

interface PassRow {
  queue_name: string;
  tick_id: string | null;
  new_events: string;
}

async function pass(minInterval: string): Promise<Record<string, PassRow>> {
  const { rows } = await db.query<PassRow>('select * from pgq.ticker_pass($1::interval)', [
    minInterval,
  ]);
  return Object.fromEntries(rows.map((row) => [row.queue_name, row]));
}

async function tickCount(queue: string): Promise<number> {
  const { rows } = await db.query(
    'select count(*)::int as n from pgq.tick join pgq.queue on queue_id = tick_queue where queue_name = $1',
    [queue],
  );
  return rows[0]?.n;
}

describe('pgq.ticker_pass', () => {
  it('ticks a queue with new events at once, then not again until it has more', async () => {
    await db.query("select pgq.create_queue('p1')");
    await pass('0'); // second tick of a new queue: pgq.ticker makes it anyway
    await db.query("select pgq.insert_event('p1', 't', 'first')");
    const first = await pass('0');
    expect(first.p1).toMatchObject({ new_events: '1' });
    expect(first.p1?.tick_id).not.toBeNull();
    const ticks = await tickCount('p1');
    expect((await pass('0')).p1).toBeUndefined();
    expect(await tickCount('p1')).toBe(ticks);
    await db.query("select pgq.insert_event('p1', 't', 'second')");
    await db.query("select pgq.insert_event('p1', 't', 'third')");
    const more = await pass('0');
    expect(more.p1).toMatchObject({ new_events: '2' });
    // The batch between the two ticks holds exactly the two events.
    await db.query("select pgq.register_consumer_at('p1', 'c', $1)", [
      Number(more.p1?.tick_id) - 1,
    ]);
    const batch = (await db.query("select pgq.next_batch('p1', 'c') as id")).rows[0]?.id;
    const events = await db.query('select ev_data from pgq.get_batch_events($1) order by ev_id', [
      batch,
    ]);
    expect(events.rows.map((row) => row.ev_data)).toEqual(['second', 'third']);
  });

  it('counts the first event of a queue whose event sequence was never used', async () => {
    await db.query("select pgq.create_queue('p2')");
    await db.query("select pgq.insert_event('p2', 't', 'x')");
    const first = await pass('0');
    expect(first.p2).toMatchObject({ new_events: '1' });
    expect(first.p2?.tick_id).not.toBeNull();
    expect((await pass('0')).p2).toBeUndefined();
  });

  it('does not read the event table of an idle queue that never had an event, pass after pass', async () => {
    await db.query("select pgq.create_queue('p_idle')");
    await pass('0');
    const client = await db.connect();
    const scans = async () => {
      await client.query('select pg_stat_force_next_flush()');
      const { rows } = await client.query<{ n: string }>(
        `select coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) as n
           from pg_stat_user_tables where schemaname = 'pgq' and relname like $1`,
        [
          `event\\_${(await db.query("select queue_id from pgq.queue where queue_name = 'p_idle'")).rows[0]?.queue_id}\\_%`,
        ],
      );
      return Number(rows[0]?.n);
    };
    const before = await scans();
    for (let i = 0; i < 5; i++) {
      const { rows } = await client.query('select * from pgq.ticker_pass($1::interval)', ['0']);
      expect(rows.find((row) => row.queue_name === 'p_idle')).toBeUndefined();
    }
    expect(await scans()).toBe(before);
    // Its first real event is still counted and ticked.
    await db.query("select pgq.insert_event('p_idle', 't', 'x')");
    expect((await pass('0')).p_idle).toMatchObject({ new_events: '1' });
  });

  it('reports but does not tick a queue whose last tick is younger than the minimum interval', async () => {
    await db.query("select pgq.create_queue('p3')");
    await pass('0');
    await pass('0');
    const ticks = await tickCount('p3');
    await db.query("select pgq.insert_event('p3', 't', 'x')");
    const waiting = await pass('1 hour');
    expect(waiting.p3).toEqual({ queue_name: 'p3', tick_id: null, new_events: '1' });
    expect(await tickCount('p3')).toBe(ticks);
  });

  it('skips paused and externally ticked queues', async () => {
    await db.query("select pgq.create_queue('paused')");
    await db.query("select pgq.create_queue('external')");
    await db.query("select pgq.set_queue_config('paused', 'ticker_paused', 'true')");
    await db.query("select pgq.set_queue_config('external', 'external_ticker', 'true')");
    await db.query("select pgq.insert_event('paused', 't', 'x')");
    const before = [await tickCount('paused'), await tickCount('external')];
    const result = await pass('0');
    expect(result.paused).toBeUndefined();
    expect(result.external).toBeUndefined();
    expect([await tickCount('paused'), await tickCount('external')]).toEqual(before);
  });

  it('is for administrators only', async () => {
    const { rows } = await db.query(
      "select has_function_privilege('public', 'pgq.ticker_pass(interval)', 'execute') as ok",
    );
    expect(rows[0]?.ok).toBe(false);
  });
});
