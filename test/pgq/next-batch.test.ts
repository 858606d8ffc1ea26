import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  batchEvents,
  collectNotices,
  consume,
  expectPgError,
  finishBatch,
  insertEvent,
  makeQueue,
  metaState,
  nextBatch,
  type Queryable,
  register,
  subscription,
  tick,
  waitForLockWait,
} from './consumer-helpers.js';

const db = useTestDatabase();

async function batchInfo(db: Queryable, queue: string, consumer: string) {
  const { rows } = await db.query('select * from pgq.next_batch_info($1, $2)', [queue, consumer]);
  return rows[0];
}

async function custom(
  queue: string,
  consumer: string,
  minLag: string | null,
  minCount: number | null,
  minInterval: string | null,
) {
  const { rows } = await db.query(
    'select * from pgq.next_batch_custom($1, $2, $3::interval, $4, $5::interval)',
    [queue, consumer, minLag, minCount, minInterval],
  );
  return rows[0] as Record<string, unknown>;
}

async function setTickAge(queue: string, tickId: number, age: string): Promise<void> {
  await db.query(
    `update pgq.tick set tick_time = now() - $3::interval
      where tick_queue = (select queue_id from pgq.queue where queue_name = $1) and tick_id = $2`,
    [queue, tickId, age],
  );
}

describe('pgq.next_batch', () => {
  it('returns NULL until a tick, then the same batch until finished', async () => {
    await makeQueue(db, 'nb_basic');
    await register(db, 'nb_basic', 'c');
    expect(await nextBatch(db, 'nb_basic', 'c')).toBeNull();
    await insertEvent(db, 'nb_basic', 'a', '1');
    await insertEvent(db, 'nb_basic', 'b', '2');
    await tick(db, 'nb_basic');
    const first = await nextBatch(db, 'nb_basic', 'c');
    expect(first).not.toBeNull();
    expect(await nextBatch(db, 'nb_basic', 'c')).toBe(first);
    expect((await batchEvents(db, first as number)).map((ev) => ev.ev_data)).toEqual(['1', '2']);
    expect(await finishBatch(db, first as number)).toBe(1);
    expect(await nextBatch(db, 'nb_basic', 'c')).toBeNull();
    await tick(db, 'nb_basic');
    const second = await nextBatch(db, 'nb_basic', 'c');
    expect(second).toBe((first as number) + 1);
    expect(await batchEvents(db, second as number)).toEqual([]);
  });

  it('next_batch_info describes the batch and its ticks', async () => {
    await makeQueue(db, 'nb_info');
    await register(db, 'nb_info', 'c');
    await insertEvent(db, 'nb_info', 'a', '1');
    const t2 = await tick(db, 'nb_info');
    const info = await batchInfo(db, 'nb_info', 'c');
    const ticks = await db.query(
      `select tick_id, tick_time, tick_event_seq from pgq.tick
        where tick_queue = (select queue_id from pgq.queue where queue_name = 'nb_info')
        order by tick_id`,
    );
    expect(Object.keys(info ?? {})).toEqual([
      'batch_id',
      'cur_tick_id',
      'prev_tick_id',
      'cur_tick_time',
      'prev_tick_time',
      'cur_tick_event_seq',
      'prev_tick_event_seq',
    ]);
    expect(info).toMatchObject({
      cur_tick_id: String(t2),
      prev_tick_id: '1',
      cur_tick_time: ticks.rows[1]?.tick_time,
      prev_tick_time: ticks.rows[0]?.tick_time,
      cur_tick_event_seq: ticks.rows[1]?.tick_event_seq,
      prev_tick_event_seq: ticks.rows[0]?.tick_event_seq,
    });
    // The open batch again, same description.
    expect(await batchInfo(db, 'nb_info', 'c')).toEqual(info);
    const sub = await subscription(db, 'nb_info', 'c');
    expect(sub).toMatchObject({ sub_batch: info?.batch_id, sub_next_tick: String(t2) });
    await finishBatch(db, Number(info?.batch_id));
    const none = await batchInfo(db, 'nb_info', 'c');
    expect(Object.values(none ?? {})).toEqual([null, null, null, null, null, null, null]);
    expect(await subscription(db, 'nb_info', 'c')).toMatchObject({
      sub_last_tick: String(t2),
      sub_batch: null,
      sub_next_tick: null,
    });
  });

  it('a lagging consumer gets one tick interval per batch', async () => {
    await makeQueue(db, 'nb_lag');
    await register(db, 'nb_lag', 'c');
    for (const n of [1, 2, 3]) {
      await insertEvent(db, 'nb_lag', 't', `e${n}`);
      await tick(db, 'nb_lag');
    }
    expect(await consume(db, 'nb_lag', 'c')).toEqual(['e1']);
    expect(await consume(db, 'nb_lag', 'c')).toEqual(['e2']);
    expect(await consume(db, 'nb_lag', 'c')).toEqual(['e3']);
    expect(await consume(db, 'nb_lag', 'c')).toBeNull();
  });

  it('every consumer gets every event', async () => {
    await makeQueue(db, 'nb_fanout');
    await register(db, 'nb_fanout', 'a');
    await register(db, 'nb_fanout', 'b');
    await insertEvent(db, 'nb_fanout', 't', 'x');
    await tick(db, 'nb_fanout');
    const batchA = await nextBatch(db, 'nb_fanout', 'a');
    const batchB = await nextBatch(db, 'nb_fanout', 'b');
    expect(batchA).not.toBe(batchB);
    expect((await batchEvents(db, batchA as number)).map((ev) => ev.ev_data)).toEqual(['x']);
    expect((await batchEvents(db, batchB as number)).map((ev) => ev.ev_data)).toEqual(['x']);
  });

  it('two sessions asking for one consumer never get two batches', async () => {
    await makeQueue(db, 'nb_lock');
    await register(db, 'nb_lock', 'c');
    await insertEvent(db, 'nb_lock', 't', 'x');
    await tick(db, 'nb_lock');
    await tick(db, 'nb_lock');
    const one = await db.connect();
    const two = await db.connect();
    try {
      await one.query('begin');
      const first = await one.query("select pgq.next_batch('nb_lock', 'c') as b");
      const pid = (await two.query('select pg_backend_pid() as pid')).rows[0]?.pid;
      const waiting = two.query("select pgq.next_batch('nb_lock', 'c') as b");
      await waitForLockWait(db, pid);
      await one.query('commit');
      const second = await waiting;
      expect(second.rows[0]?.b).toBe(first.rows[0]?.b);

      // Finishing in an open transaction: the other session waits, then gets the next batch.
      await one.query('begin');
      await one.query('select pgq.finish_batch($1)', [first.rows[0]?.b]);
      const third = two.query("select pgq.next_batch('nb_lock', 'c') as b");
      await waitForLockWait(db, pid);
      await one.query('commit');
      const next = (await third).rows[0]?.b;
      expect(Number(next)).toBeGreaterThan(Number(first.rows[0]?.b));
      const batches = await db.query(
        'select count(*)::int as n from pgq.subscription where sub_batch is not null and sub_queue = (select queue_id from pgq.queue where queue_name = $1)',
        ['nb_lock'],
      );
      expect(batches.rows[0]?.n).toBe(1);
    } finally {
      await one.end();
      await two.end();
    }
  });

  it('errors for unknown or NULL queue and consumer without changing anything', async () => {
    await makeQueue(db, 'nb_bad');
    await register(db, 'nb_bad', 'c');
    const before = await metaState(db);
    const cases: [string | null, string | null, string][] = [
      ['nb_bad', 'nobody', 'Not subscriber to queue: nb_bad/nobody'],
      ['no_such_queue', 'c', 'Not subscriber to queue: no_such_queue/c'],
      [null, 'c', 'Not subscriber to queue: <NULL>/c'],
      ['nb_bad', null, 'Not subscriber to queue: nb_bad/<NULL>'],
    ];
    for (const [queue, consumer, message] of cases) {
      await expectPgError(db.query('select pgq.next_batch($1, $2)', [queue, consumer]), message);
      await expectPgError(
        db.query('select * from pgq.next_batch_info($1, $2)', [queue, consumer]),
        message,
      );
      await expectPgError(
        db.query('select * from pgq.next_batch_custom($1, $2, null, null, null)', [
          queue,
          consumer,
        ]),
        message,
      );
    }
    expect(await metaState(db)).toBe(before);
  });

  it('reports a consumer whose tick is gone', async () => {
    await makeQueue(db, 'nb_corrupt');
    await register(db, 'nb_corrupt', 'c');
    await tick(db, 'nb_corrupt');
    await db.query(
      "delete from pgq.tick where tick_id = 1 and tick_queue = (select queue_id from pgq.queue where queue_name = 'nb_corrupt')",
    );
    await expectPgError(
      db.query("select pgq.next_batch('nb_corrupt', 'c')"),
      'PgQ corruption: Consumer c on queue nb_corrupt does not see tick 1',
    );
    await db.query(
      "update pgq.subscription set sub_last_tick = null where sub_queue = (select queue_id from pgq.queue where queue_name = 'nb_corrupt')",
    );
    await expectPgError(
      db.query("select pgq.next_batch('nb_corrupt', 'c')"),
      'PgQ corruption: Consumer c on queue nb_corrupt does not see tick <NULL>',
    );
  });
});

describe('pgq.finish_batch', () => {
  it('returns 0 with a WARNING for an unknown or finished batch', async () => {
    await makeQueue(db, 'fb_unknown');
    await register(db, 'fb_unknown', 'c');
    await tick(db, 'fb_unknown');
    const batchId = (await nextBatch(db, 'fb_unknown', 'c')) as number;
    const client = await db.connect();
    try {
      const ok = await collectNotices(client, () =>
        client.query('select pgq.finish_batch($1) as r', [batchId]),
      );
      expect(ok.result.rows[0]?.r).toBe(1);
      expect(ok.notices).toEqual([]);
      const before = await metaState(db);
      for (const id of [batchId, 987654, null]) {
        const { result, notices } = await collectNotices(client, () =>
          client.query('select pgq.finish_batch($1) as r', [id]),
        );
        expect(result.rows[0]?.r).toBe(0);
        expect(notices).toEqual([
          { severity: 'WARNING', message: `finish_batch: batch ${id ?? '<NULL>'} not found` },
        ]);
      }
      expect(await metaState(db)).toBe(before);
    } finally {
      await client.end();
    }
  });
});

describe('pgq.next_batch_custom', () => {
  it('min_lag withholds the batch until its end tick is old enough', async () => {
    await makeQueue(db, 'nc_lag');
    await register(db, 'nc_lag', 'c');
    await insertEvent(db, 'nc_lag', 't', 'x');
    const t2 = await tick(db, 'nc_lag');
    const none = await custom('nc_lag', 'c', '1 hour', null, null);
    expect(none.batch_id).toBeNull();
    expect((await subscription(db, 'nc_lag', 'c'))?.sub_batch).toBeNull();
    await setTickAge('nc_lag', t2, '2 hours');
    const got = await custom('nc_lag', 'c', '1 hour', null, null);
    expect(got).toMatchObject({ cur_tick_id: String(t2), prev_tick_id: '1' });
    expect(got.batch_id).not.toBeNull();
    expect((await batchEvents(db, Number(got.batch_id))).map((ev) => ev.ev_data)).toEqual(['x']);
  });

  it('min_count withholds the batch until enough events, and skips over small ticks', async () => {
    await makeQueue(db, 'nc_count');
    await insertEvent(db, 'nc_count', 't', 'warm-up');
    const t2 = await tick(db, 'nc_count');
    await register(db, 'nc_count', 'c');
    for (let i = 0; i < 3; i++) await insertEvent(db, 'nc_count', 't', `a${i}`);
    await tick(db, 'nc_count');
    expect((await custom('nc_count', 'c', null, 6, null)).batch_id).toBeNull();
    for (let i = 0; i < 3; i++) await insertEvent(db, 'nc_count', 't', `b${i}`);
    const t4 = await tick(db, 'nc_count');
    const got = await custom('nc_count', 'c', null, 6, null);
    expect(got).toMatchObject({ prev_tick_id: String(t2), cur_tick_id: String(t4) });
    expect((await batchEvents(db, Number(got.batch_id))).map((ev) => ev.ev_data)).toEqual([
      'a0',
      'a1',
      'a2',
      'b0',
      'b1',
      'b2',
    ]);
    await finishBatch(db, Number(got.batch_id));
  });

  it('min_count with a far newest tick takes the first tick that is enough', async () => {
    await makeQueue(db, 'nc_far');
    // A fresh sequence reads 1 before and after its first nextval: start after that.
    await insertEvent(db, 'nc_far', 't', 'warm-up');
    await tick(db, 'nc_far');
    await register(db, 'nc_far', 'c');
    await insertEvent(db, 'nc_far', 't', 'e1');
    await tick(db, 'nc_far');
    await insertEvent(db, 'nc_far', 't', 'e2');
    const t4 = await tick(db, 'nc_far');
    for (let i = 0; i < 10; i++) await insertEvent(db, 'nc_far', 't', `x${i}`);
    const t5 = await tick(db, 'nc_far');
    const got = await custom('nc_far', 'c', null, 2, null);
    expect(got.cur_tick_id).toBe(String(t4));
    expect((await batchEvents(db, Number(got.batch_id))).map((ev) => ev.ev_data)).toEqual([
      'e1',
      'e2',
    ]);
    await finishBatch(db, Number(got.batch_id));
    const next = await custom('nc_far', 'c', null, 2, null);
    expect(next.cur_tick_id).toBe(String(t5));
    expect(await batchEvents(db, Number(next.batch_id))).toHaveLength(10);
    await finishBatch(db, Number(next.batch_id));
  });

  it('min_interval withholds the batch until enough time lies between its ticks', async () => {
    await makeQueue(db, 'nc_interval');
    await register(db, 'nc_interval', 'c');
    await insertEvent(db, 'nc_interval', 't', 'x');
    await setTickAge('nc_interval', 1, '10 minutes');
    const t2 = await tick(db, 'nc_interval');
    expect((await custom('nc_interval', 'c', null, null, '1 hour')).batch_id).toBeNull();
    await setTickAge('nc_interval', 1, '2 hours');
    const got = await custom('nc_interval', 'c', null, null, '1 hour');
    expect(got.cur_tick_id).toBe(String(t2));
    // The open batch comes back whatever the limits.
    const again = await custom('nc_interval', 'c', '100 years', 1000000, '100 years');
    expect(again).toEqual(got);
  });

  it('find_tick_helper picks ticks by count and interval', async () => {
    await makeQueue(db, 'nc_helper');
    for (let i = 0; i < 5; i++) {
      await insertEvent(db, 'nc_helper', 't', `${i}`);
      await tick(db, 'nc_helper');
    }
    const { rows: ticks } = await db.query(
      `select tick_id, tick_time, tick_event_seq from pgq.tick
        where tick_queue = (select queue_id from pgq.queue where queue_name = 'nc_helper')
        order by tick_id`,
    );
    const qid = (await db.query("select queue_id from pgq.queue where queue_name = 'nc_helper'"))
      .rows[0]?.queue_id;
    const helper = async (count: number | null, interval: string | null) => {
      const { rows } = await db.query(
        'select * from pgq.find_tick_helper($1, $2, $3, $4, $5, $6::interval)',
        [qid, ticks[1]?.tick_id, ticks[1]?.tick_time, ticks[1]?.tick_event_seq, count, interval],
      );
      return rows[0]?.next_tick_id;
    };
    expect(
      Object.keys(
        (await db.query('select * from pgq.find_tick_helper(1, 1, now(), 0, 1, null)')).rows[0] ??
          {},
      ),
    ).toEqual(['next_tick_id', 'next_tick_time', 'next_tick_seq']);
    // From ticks[1] each later tick is one event further; the newest is 4 away.
    expect(await helper(null, null)).toBe(ticks[2]?.tick_id);
    expect(await helper(1, null)).toBe(ticks[2]?.tick_id); // 4 > 2 * 1: first that is enough
    expect(await helper(2, null)).toBe(ticks[5]?.tick_id); // 4 <= 2 * 2: the newest
    expect(await helper(5, null)).toBeNull();
    expect(await helper(null, '1 hour')).toBeNull();
  });
});
