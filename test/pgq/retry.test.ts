import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  batchEvents,
  consumeAll,
  expectPgError,
  finishBatch,
  insertEvent,
  makeQueue,
  metaState,
  nextBatch,
  register,
  tick,
} from './consumer-helpers.js';

const db = useTestDatabase();

async function maintRetry(): Promise<number> {
  const { rows } = await db.query('select pgq.maint_retry_events() as n');
  return rows[0]?.n as number;
}

async function retryRows(queue: string) {
  const { rows } = await db.query(
    `select r.ev_id, r.ev_retry, r.ev_type, r.ev_data, c.co_name
       from pgq.retry_queue r
       join pgq.subscription s on s.sub_id = r.ev_owner and s.sub_queue = r.ev_queue
       join pgq.consumer c on c.co_id = s.sub_consumer
       join pgq.queue q on q.queue_id = r.ev_queue
      where q.queue_name = $1 order by r.ev_id, c.co_name`,
    [queue],
  );
  return rows;
}

describe('pgq.event_retry', () => {
  it('sends one event back to that consumer only, same ev_id, retry count + 1', async () => {
    await makeQueue(db, 'rt_basic');
    await register(db, 'rt_basic', 'fails');
    await register(db, 'rt_basic', 'other');
    const id1 = await insertEvent(db, 'rt_basic', 't', 'one');
    await insertEvent(db, 'rt_basic', 't', 'two');
    await tick(db, 'rt_basic');
    expect(await consumeAll(db, 'rt_basic', 'other')).toEqual([['one', 'two']]);

    const batchId = (await nextBatch(db, 'rt_basic', 'fails')) as number;
    const r1 = await db.query('select pgq.event_retry($1, $2, 0) as r', [batchId, id1]);
    expect(r1.rows[0]?.r).toBe(1);
    const again = await db.query('select pgq.event_retry($1, $2, 0) as r', [batchId, id1]);
    expect(again.rows[0]?.r).toBe(0);
    expect(await retryRows('rt_basic')).toEqual([
      { ev_id: String(id1), ev_retry: 1, ev_type: 't', ev_data: 'one', co_name: 'fails' },
    ]);
    await finishBatch(db, batchId);

    expect(await maintRetry()).toBe(1);
    expect(await maintRetry()).toBe(0);
    expect(await retryRows('rt_basic')).toEqual([]);
    await tick(db, 'rt_basic');
    expect(await consumeAll(db, 'rt_basic', 'other')).toEqual([[]]);
    const retried = (await nextBatch(db, 'rt_basic', 'fails')) as number;
    const events = await batchEvents(db, retried);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ev_id: String(id1), ev_retry: 1, ev_data: 'one' });

    // Retried again: the count goes on.
    await db.query('select pgq.event_retry($1, $2, 0)', [retried, id1]);
    await finishBatch(db, retried);
    await maintRetry();
    await tick(db, 'rt_basic');
    const third = (await nextBatch(db, 'rt_basic', 'fails')) as number;
    expect(await batchEvents(db, third)).toMatchObject([{ ev_id: String(id1), ev_retry: 2 }]);
    await finishBatch(db, third);
  });

  it('the timestamptz form waits until the given time', async () => {
    await makeQueue(db, 'rt_time');
    await register(db, 'rt_time', 'c');
    const id = await insertEvent(db, 'rt_time', 't', 'later');
    await tick(db, 'rt_time');
    const batchId = (await nextBatch(db, 'rt_time', 'c')) as number;
    const r = await db.query(
      "select pgq.event_retry($1::bigint, $2::bigint, now() + interval '1 hour') as r",
      [batchId, id],
    );
    expect(r.rows[0]?.r).toBe(1);
    await finishBatch(db, batchId);
    expect(await maintRetry()).toBe(0);
    await db.query(
      `update pgq.retry_queue set ev_retry_after = now() - interval '1 second'
        where ev_queue = (select queue_id from pgq.queue where queue_name = 'rt_time')`,
    );
    expect(await maintRetry()).toBe(1);
    await tick(db, 'rt_time');
    expect(await consumeAll(db, 'rt_time', 'c')).toEqual([['later']]);
  });

  it('errors for an event outside the batch and for an unknown batch, changing nothing', async () => {
    await makeQueue(db, 'rt_bad');
    await register(db, 'rt_bad', 'c');
    const id = await insertEvent(db, 'rt_bad', 't', 'x');
    await tick(db, 'rt_bad');
    const batchId = (await nextBatch(db, 'rt_bad', 'c')) as number;
    const before = await metaState(db);
    await expectPgError(
      db.query('select pgq.event_retry($1, $2, 0)', [batchId, id + 1000]),
      'event not found',
    );
    await expectPgError(
      db.query('select pgq.event_retry($1, $2, 0)', [batchId, null]),
      'event not found',
    );
    await expectPgError(db.query('select pgq.event_retry(987654, $1, 0)', [id]), 'batch not found');
    await expectPgError(
      db.query('select pgq.event_retry(null::bigint, $1::bigint, now())', [id]),
      'batch not found',
    );
    await expectPgError(
      db.query('select pgq.batch_retry(987654, 0)'),
      'batch_retry: batch 987654 not found',
    );
    await expectPgError(
      db.query('select pgq.batch_retry(null, 0)'),
      'batch_retry: batch <NULL> not found',
    );
    expect(await metaState(db)).toBe(before);
  });
});

describe('pgq.batch_retry', () => {
  it('retries every event of the batch not already waiting', async () => {
    await makeQueue(db, 'rt_batch');
    await register(db, 'rt_batch', 'c');
    const ids: number[] = [];
    for (let i = 0; i < 12; i++) ids.push(await insertEvent(db, 'rt_batch', 't', `e${i}`));
    await tick(db, 'rt_batch');
    const batchId = (await nextBatch(db, 'rt_batch', 'c')) as number;
    await db.query('select pgq.event_retry($1, $2, 0)', [batchId, ids[3]]);
    const r = await db.query('select pgq.batch_retry($1, 0) as n', [batchId]);
    expect(r.rows[0]?.n).toBe(11);
    const again = await db.query('select pgq.batch_retry($1, 0) as n', [batchId]);
    expect(again.rows[0]?.n).toBe(0);
    await finishBatch(db, batchId);
    // At most 10 per call.
    expect(await maintRetry()).toBe(10);
    expect(await maintRetry()).toBe(2);
    expect(await maintRetry()).toBe(0);
    await tick(db, 'rt_batch');
    const retried = (await nextBatch(db, 'rt_batch', 'c')) as number;
    const events = await batchEvents(db, retried);
    expect(events.map((ev) => Number(ev.ev_id))).toEqual(ids);
    expect(events.every((ev) => ev.ev_retry === 1)).toBe(true);
    await finishBatch(db, retried);
  });
});

describe('pgq.event_retry_raw', () => {
  it('queues a given event for one consumer', async () => {
    await makeQueue(db, 'rt_raw');
    await register(db, 'rt_raw', 'c');
    await register(db, 'rt_raw', 'bystander');
    const given = await db.query(
      `select pgq.event_retry_raw('rt_raw', 'c', now(), 777, '2001-02-03 04:05:06+00', 5,
              'raw.type', 'raw data', 'x1', 'x2', 'x3', 'x4') as id`,
    );
    expect(given.rows[0]?.id).toBe('777');
    const generated = await db.query(
      `select pgq.event_retry_raw('rt_raw', 'c', now(), null, null, null,
              'gen', 'generated', null, null, null, null) as id`,
    );
    const seqAfter = await db.query(
      "select pgq.seq_getval(queue_event_seq) as v from pgq.queue where queue_name = 'rt_raw'",
    );
    expect(generated.rows[0]?.id).toBe(seqAfter.rows[0]?.v);
    expect(await retryRows('rt_raw')).toEqual([
      {
        ev_id: generated.rows[0]?.id,
        ev_retry: null,
        ev_type: 'gen',
        ev_data: 'generated',
        co_name: 'c',
      },
      { ev_id: '777', ev_retry: 5, ev_type: 'raw.type', ev_data: 'raw data', co_name: 'c' },
    ]);
    expect(await maintRetry()).toBe(2);
    await tick(db, 'rt_raw');
    const batchId = (await nextBatch(db, 'rt_raw', 'c')) as number;
    const events = await batchEvents(db, batchId);
    expect(events.map((ev) => ev.ev_id)).toEqual(
      [generated.rows[0]?.id, '777'].sort((a, b) => Number(a) - Number(b)),
    );
    expect(events.find((ev) => ev.ev_id === '777')).toMatchObject({
      ev_time: new Date('2001-02-03T04:05:06Z'),
      ev_retry: 5,
      ev_type: 'raw.type',
      ev_data: 'raw data',
      ev_extra1: 'x1',
      ev_extra2: 'x2',
      ev_extra3: 'x3',
      ev_extra4: 'x4',
    });
    expect(await consumeAll(db, 'rt_raw', 'bystander')).toEqual([[]]);
  });

  it('errors for unknown consumers and queues', async () => {
    await makeQueue(db, 'rt_raw_bad');
    const before = await metaState(db);
    for (const [queue, consumer] of [
      ['rt_raw_bad', 'nobody'],
      ['no_such_queue', 'c'],
      [null, 'c'],
      ['rt_raw_bad', null],
    ]) {
      await expectPgError(
        db.query(
          "select pgq.event_retry_raw($1, $2, now(), 1, now(), 0, 't', 'd', null, null, null, null)",
          [queue, consumer],
        ),
        'consumer not registered',
      );
    }
    expect(await metaState(db)).toBe(before);
  });
});

describe('retry and unregister', () => {
  it('unregistering deletes the consumer retry rows, and the others stay', async () => {
    await makeQueue(db, 'rt_unreg');
    await register(db, 'rt_unreg', 'a');
    await register(db, 'rt_unreg', 'b');
    await insertEvent(db, 'rt_unreg', 't', 'x');
    await tick(db, 'rt_unreg');
    for (const consumer of ['a', 'b']) {
      const batchId = (await nextBatch(db, 'rt_unreg', consumer)) as number;
      await db.query('select pgq.batch_retry($1, 3600)', [batchId]);
      await finishBatch(db, batchId);
    }
    await db.query("select pgq.unregister_consumer('rt_unreg', 'a')");
    expect((await retryRows('rt_unreg')).map((row) => row.co_name)).toEqual(['b']);
  });
});
