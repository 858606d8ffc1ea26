import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

// The bad-input list in one place: each case gives upstream's text (or a clear one)
// and changes nothing.
const db = useTestDatabase();

async function tickQueue(queue: string): Promise<void> {
  await db.query('select pgq.force_tick($1)', [queue]);
  await db.query('select pgq.ticker($1)', [queue]);
}

/** Everything about a queue a failed call must leave as it was. */
async function queueState(queue: string) {
  const { rows } = await db.query(
    `select (select count(*)::int from pgq.event_template e join pgq.queue q
               on e.tableoid::regclass::text like q.queue_data_pfx || '\\_%' where q.queue_name = $1) as events,
            (select count(*)::int from pgq.retry_queue r join pgq.queue q on q.queue_id = r.ev_queue
              where q.queue_name = $1) as retries,
            (select json_agg(json_build_object('last', s.sub_last_tick, 'batch', s.sub_batch,
                     'next', s.sub_next_tick) order by s.sub_consumer)
               from pgq.subscription s join pgq.queue q on q.queue_id = s.sub_queue
              where q.queue_name = $1) as subscriptions`,
    [queue],
  );
  return rows[0];
}

async function openBatch(queue: string, consumer: string): Promise<number> {
  const { rows } = await db.query<{ b: string }>('select pgq.next_batch($1, $2) as b', [
    queue,
    consumer,
  ]);
  expect(rows[0]?.b).not.toBeNull();
  return Number(rows[0]?.b);
}

describe('bad input to schema pgq', () => {
  it('over-long queue and consumer names work end to end (we build no identifier from them)', async () => {
    const queue = `q${'x'.repeat(5000)}`;
    const consumer = `c${'ü'.repeat(3000)}`;
    expect((await db.query('select pgq.create_queue($1) as r', [queue])).rows[0]?.r).toBe(1);
    await db.query('select pgq.register_consumer($1, $2)', [queue, consumer]);
    await db.query("select pgq.insert_event($1, 'long', 'name')", [queue]);
    await tickQueue(queue);
    const batch = await openBatch(queue, consumer);
    const events = await db.query('select ev_type from pgq.get_batch_events($1)', [batch]);
    expect(events.rows).toEqual([{ ev_type: 'long' }]);
    const info = await db.query('select consumer_name from pgq.get_consumer_info($1)', [queue]);
    expect(info.rows).toEqual([{ consumer_name: consumer }]);
  });

  it('a 10 MB ev_data goes through a batch unchanged', async () => {
    await db.query("select pgq.create_queue('big')");
    await db.query("select pgq.register_consumer('big', 'reader')");
    const payload = `${'0123456789abcdef'.repeat(655_360)}é`;
    await db.query("select pgq.insert_event('big', 'large', $1)", [payload]);
    await tickQueue('big');
    const batch = await openBatch('big', 'reader');
    const { rows } = await db.query('select ev_data from pgq.get_batch_events($1)', [batch]);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.ev_data.length).toBe(payload.length);
    expect(rows[0]?.ev_data === payload).toBe(true);
  });

  it('finishing a batch twice returns 0 with the warning and moves nothing', async () => {
    await db.query("select pgq.create_queue('twice')");
    await db.query("select pgq.register_consumer('twice', 'reader')");
    await db.query("select pgq.insert_event('twice', 't', 'd')");
    await tickQueue('twice');
    const batch = await openBatch('twice', 'reader');
    expect((await db.query('select pgq.finish_batch($1) as r', [batch])).rows[0]?.r).toBe(1);
    const before = await queueState('twice');

    const client = await db.connect();
    const notices: string[] = [];
    client.on('notice', (notice: { severity?: string; message?: string }) =>
      notices.push(`${notice.severity}: ${notice.message}`),
    );
    expect((await client.query('select pgq.finish_batch($1) as r', [batch])).rows[0]?.r).toBe(0);
    expect(notices).toEqual([`WARNING: finish_batch: batch ${batch} not found`]);
    expect(await queueState('twice')).toEqual(before);
  });

  it("retrying an event through another consumer's batch is refused and changes nothing", async () => {
    await db.query("select pgq.create_queue('shared')");
    await db.query("select pgq.register_consumer('shared', 'alice')");
    await db.query("select pgq.insert_event('shared', 't', 'first')");
    await tickQueue('shared');
    const aliceBatch = await openBatch('shared', 'alice');
    // bob registers after the first event: his batch does not contain it.
    await db.query("select pgq.register_consumer('shared', 'bob')");
    await db.query("select pgq.insert_event('shared', 't', 'second')");
    await tickQueue('shared');
    const bobBatch = await openBatch('shared', 'bob');
    const firstId = (await db.query('select ev_id from pgq.get_batch_events($1)', [aliceBatch]))
      .rows[0]?.ev_id;
    const before = await queueState('shared');
    expect(before?.events).toBe(2);

    await expect(
      db.query('select pgq.event_retry($1, $2, 0)', [bobBatch, firstId]),
    ).rejects.toThrow(/^event not found$/);
    await expect(db.query('select pgq.event_retry($1, $2, 0)', [999_999, firstId])).rejects.toThrow(
      /^batch not found$/,
    );
    expect(await queueState('shared')).toEqual(before);
  });

  it('unknown queues and consumers, and NULL names, give upstream texts and change nothing', async () => {
    await db.query("select pgq.create_queue('known')");
    await db.query("select pgq.register_consumer('known', 'reader')");
    const before = await queueState('known');
    const cases: [string, unknown[], string][] = [
      ["select pgq.insert_event('nope', 't', 'd')", [], 'No such queue'],
      ["select pgq.register_consumer('nope', 'c')", [], 'Event queue not created yet'],
      ["select pgq.next_batch('known', 'stranger')", [], 'Not subscriber to queue: known/stranger'],
      ["select pgq.next_batch('nope', 'reader')", [], 'Not subscriber to queue: nope/reader'],
      ["select pgq.ticker('nope')", [], 'no such queue'],
      ["select pgq.drop_queue('nope')", [], 'No such event queue'],
      ['select pgq.create_queue(null)', [], 'Invalid NULL value'],
      ["select pgq.insert_event(null, 't', 'd')", [], 'Queue name must not be NULL'],
      ["select pgq.register_consumer('known', null)", [], 'Invalid NULL value'],
      ["select pgq.current_event_table('nope')", [], 'Event queue not found'],
    ];
    for (const [sql, values, message] of cases) {
      const error = await db.query(sql, values).then(
        () => null,
        (caught: pg.DatabaseError) => caught,
      );
      expect(error?.message, sql).toBe(message);
      expect(error?.code, sql).toBe('P0001');
    }
    expect(await queueState('known')).toEqual(before);
    const { rows } = await db.query(
      "select count(*)::int as n from pgq.queue where queue_name = 'nope'",
    );
    expect(rows[0]?.n).toBe(0);
  });
});
