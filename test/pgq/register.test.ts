import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  batchEvents,
  consume,
  consumeAll,
  expectPgError,
  finishBatch,
  hostileNames,
  insertEvent,
  makeQueue,
  metaState,
  nextBatch,
  register,
  subscription,
  tick,
} from './consumer-helpers.js';

const db = useTestDatabase();

describe('pgq.register_consumer', () => {
  it('returns 1 for a new registration and 0 when already registered', async () => {
    await makeQueue(db, 'rq_basic');
    expect(await register(db, 'rq_basic', 'c1')).toBe(1);
    expect(await register(db, 'rq_basic', 'c1')).toBe(0);
    expect(await register(db, 'rq_basic', 'c2')).toBe(1);
    const { rows } = await db.query(
      `select c.co_name, s.sub_last_tick, s.sub_batch, s.sub_next_tick
         from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
         join pgq.queue q on q.queue_id = s.sub_queue
        where q.queue_name = 'rq_basic' order by c.co_name`,
    );
    expect(rows).toEqual([
      { co_name: 'c1', sub_last_tick: '1', sub_batch: null, sub_next_tick: null },
      { co_name: 'c2', sub_last_tick: '1', sub_batch: null, sub_next_tick: null },
    ]);
  });

  it('starts at the latest tick: events before it are not delivered', async () => {
    await makeQueue(db, 'rq_start');
    await insertEvent(db, 'rq_start', 't', 'before');
    const t2 = await tick(db, 'rq_start');
    await register(db, 'rq_start', 'late');
    expect((await subscription(db, 'rq_start', 'late'))?.sub_last_tick).toBe(String(t2));
    await insertEvent(db, 'rq_start', 't', 'after');
    await tick(db, 'rq_start');
    expect(await consumeAll(db, 'rq_start', 'late')).toEqual([['after']]);
  });

  it('one consumer name row serves several queues', async () => {
    await makeQueue(db, 'rq_shared_a');
    await makeQueue(db, 'rq_shared_b');
    expect(await register(db, 'rq_shared_a', 'shared_consumer')).toBe(1);
    expect(await register(db, 'rq_shared_b', 'shared_consumer')).toBe(1);
    const { rows } = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name = 'shared_consumer'",
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('errors on unknown and NULL queues without changing anything', async () => {
    await makeQueue(db, 'rq_bad');
    const before = await metaState(db);
    await expectPgError(
      db.query("select pgq.register_consumer('no_such_queue', 'c')"),
      'Event queue not created yet',
    );
    await expectPgError(
      db.query("select pgq.register_consumer(null, 'c')"),
      'Event queue not created yet',
    );
    await expectPgError(
      db.query("select pgq.register_consumer('rq_bad', null)"),
      'Invalid NULL value',
    );
    await expectPgError(
      db.query("select pgq.register_consumer_at('no_such_queue', 'c', 1)"),
      'Event queue not created yet',
    );
    expect(await metaState(db)).toBe(before);
  });

  it('reports a queue without ticks', async () => {
    await makeQueue(db, 'rq_noticks');
    await db.query(
      "delete from pgq.tick where tick_queue = (select queue_id from pgq.queue where queue_name = 'rq_noticks')",
    );
    await expectPgError(
      db.query("select pgq.register_consumer('rq_noticks', 'c')"),
      'No ticks for this queue.  Please run ticker on database.',
    );
    const { rows } = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name = 'c'",
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('works with hostile queue and consumer names', async () => {
    await db.query('create table victim (id int)');
    for (const name of hostileNames) {
      await makeQueue(db, name);
      expect(await register(db, name, name)).toBe(1);
      expect(await register(db, name, name)).toBe(0);
      await insertEvent(db, name, 'type', `payload of ${name}`);
      await tick(db, name);
      const batchId = await nextBatch(db, name, name);
      expect(batchId).not.toBeNull();
      const events = await batchEvents(db, batchId as number);
      expect(events.map((ev) => ev.ev_data)).toEqual([`payload of ${name}`]);
      const info = await db.query('select * from pgq.get_batch_info($1)', [batchId]);
      expect(info.rows[0]).toMatchObject({ queue_name: name, consumer_name: name });
      expect(await finishBatch(db, batchId as number)).toBe(1);
      const consumers = await db.query('select * from pgq.get_consumer_info($1, $2)', [name, name]);
      expect(consumers.rows).toHaveLength(1);
      const unreg = await db.query('select pgq.unregister_consumer($1, $2) as r', [name, name]);
      expect(unreg.rows[0]?.r).toBe(1);
    }
    const { rows } = await db.query('select count(*)::int as n from victim');
    expect(rows[0]?.n).toBe(0);
  });

  it('registers the same new consumer from many sessions at once', async () => {
    await makeQueue(db, 'rq_race');
    const clients = await Promise.all([1, 2, 3, 4, 5, 6].map(() => db.connect()));
    try {
      const results = await Promise.all(
        clients.map((client) =>
          client.query<{ r: number }>("select pgq.register_consumer('rq_race', 'racer') as r"),
        ),
      );
      const codes = results.map((res) => res.rows[0]?.r).sort();
      expect(codes).toEqual([0, 0, 0, 0, 0, 1]);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
    const { rows } = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name = 'racer'",
    );
    expect(rows[0]?.n).toBe(1);
  });
});

describe('pgq.register_consumer_at', () => {
  it('registers a new consumer at a given tick and repositions an existing one', async () => {
    await makeQueue(db, 'rq_at');
    await register(db, 'rq_at', 'main');
    await insertEvent(db, 'rq_at', 't', 'e1');
    const t2 = await tick(db, 'rq_at');
    await insertEvent(db, 'rq_at', 't', 'e2');
    await tick(db, 'rq_at');
    expect(await consumeAll(db, 'rq_at', 'main')).toEqual([['e1'], ['e2']]);

    // A new consumer starting at tick 1 sees everything.
    const fresh = await db.query("select pgq.register_consumer_at('rq_at', 'from_start', 1) as r");
    expect(fresh.rows[0]?.r).toBe(1);
    expect(await consumeAll(db, 'rq_at', 'from_start')).toEqual([['e1'], ['e2']]);

    // Rewind the first consumer to t2: e2 is replayed.
    const again = await db.query('select pgq.register_consumer_at($1, $2, $3) as r', [
      'rq_at',
      'main',
      t2,
    ]);
    expect(again.rows[0]?.r).toBe(0);
    expect(await consumeAll(db, 'rq_at', 'main')).toEqual([['e2']]);
  });

  it('repositioning drops the open batch', async () => {
    await makeQueue(db, 'rq_drop_batch');
    await register(db, 'rq_drop_batch', 'c');
    await insertEvent(db, 'rq_drop_batch', 't', 'x');
    await tick(db, 'rq_drop_batch');
    const batchId = await nextBatch(db, 'rq_drop_batch', 'c');
    expect(batchId).not.toBeNull();
    await db.query("select pgq.register_consumer_at('rq_drop_batch', 'c', 1)");
    const sub = await subscription(db, 'rq_drop_batch', 'c');
    expect(sub).toMatchObject({ sub_last_tick: '1', sub_batch: null, sub_next_tick: null });
    expect(await consume(db, 'rq_drop_batch', 'c')).toEqual(['x']);
  });

  it('without a tick, an existing registration keeps its position', async () => {
    await makeQueue(db, 'rq_keep');
    await register(db, 'rq_keep', 'c');
    await tick(db, 'rq_keep');
    const r = await db.query("select pgq.register_consumer_at('rq_keep', 'c', null) as r");
    expect(r.rows[0]?.r).toBe(0);
    expect((await subscription(db, 'rq_keep', 'c'))?.sub_last_tick).toBe('1');
  });

  it('errors on an unknown tick without changing anything', async () => {
    await makeQueue(db, 'rq_badtick');
    await register(db, 'rq_badtick', 'c');
    const before = await metaState(db);
    await expectPgError(
      db.query("select pgq.register_consumer_at('rq_badtick', 'c', 999)"),
      'cannot reposition, tick not found: 999',
    );
    await expectPgError(
      db.query("select pgq.register_consumer_at('rq_badtick', 'new_one', 999)"),
      'cannot reposition, tick not found: 999',
    );
    expect(await metaState(db)).toBe(before);
  });
});

describe('pgq.unregister_consumer', () => {
  it('returns the count, deletes retry rows and the unused consumer name', async () => {
    await makeQueue(db, 'uq_basic');
    await makeQueue(db, 'uq_other');
    await register(db, 'uq_basic', 'gone');
    await register(db, 'uq_basic', 'stays');
    await register(db, 'uq_other', 'stays');
    await insertEvent(db, 'uq_basic', 't', 'r1');
    await tick(db, 'uq_basic');
    for (const consumer of ['gone', 'stays']) {
      const batchId = (await nextBatch(db, 'uq_basic', consumer)) as number;
      const [ev] = await batchEvents(db, batchId);
      await db.query('select pgq.event_retry($1, $2, 60)', [batchId, ev?.ev_id]);
      await finishBatch(db, batchId);
    }
    const retries = await db.query('select count(*)::int as n from pgq.retry_queue');
    expect(retries.rows[0]?.n).toBe(2);

    const r = await db.query("select pgq.unregister_consumer('uq_basic', 'gone') as r");
    expect(r.rows[0]?.r).toBe(1);
    const left = await db.query(
      `select c.co_name from pgq.retry_queue r
         join pgq.subscription s on s.sub_id = r.ev_owner
         join pgq.consumer c on c.co_id = s.sub_consumer`,
    );
    expect(left.rows).toEqual([{ co_name: 'stays' }]);
    const names = await db.query(
      "select co_name from pgq.consumer where co_name in ('gone', 'stays') order by co_name",
    );
    expect(names.rows.map((row) => row.co_name)).toEqual(['stays']);

    // Still used on another queue: the name row stays.
    await db.query("select pgq.unregister_consumer('uq_basic', 'stays')");
    const still = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name = 'stays'",
    );
    expect(still.rows[0]?.n).toBe(1);
    await db.query("select pgq.unregister_consumer('uq_other', 'stays')");
    const none = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name = 'stays'",
    );
    expect(none.rows[0]?.n).toBe(0);
  });

  it('returns 0 for unknown, NULL or unregistered names and changes nothing', async () => {
    await makeQueue(db, 'uq_zero');
    await register(db, 'uq_zero', 'c');
    const before = await metaState(db);
    for (const [queue, consumer] of [
      ['uq_zero', 'nobody'],
      ['no_such_queue', 'c'],
      [null, 'c'],
      ['uq_zero', null],
    ]) {
      const r = await db.query('select pgq.unregister_consumer($1, $2) as r', [queue, consumer]);
      expect(r.rows[0]?.r).toBe(0);
    }
    expect(await metaState(db)).toBe(before);
  });

  it('handles cooperative subconsumers sharing the main sub_id', async () => {
    await makeQueue(db, 'uq_coop');
    await register(db, 'uq_coop', 'cmain');
    // Subconsumers as pgq_coop makes them: same sub_id, ticks NULL when idle, both set with a batch.
    await db.query(
      `insert into pgq.consumer (co_name) values ('cmain.s1'), ('cmain.s2'), ('cmain.s3')`,
    );
    await db.query(
      `insert into pgq.subscription (sub_id, sub_queue, sub_consumer, sub_last_tick, sub_next_tick, sub_batch)
       select s.sub_id, s.sub_queue, c.co_id, x.last_tick, x.next_tick, x.batch
         from pgq.subscription s
         join pgq.queue q on q.queue_id = s.sub_queue and q.queue_name = 'uq_coop'
         join (values ('cmain.s1', null::bigint, null::bigint, null::bigint),
                      ('cmain.s2', 1, 1, 424242),
                      ('cmain.s3', null, null, null)) as x (name, last_tick, next_tick, batch)
           on true
         join pgq.consumer c on c.co_name = x.name`,
    );
    await db.query(
      `insert into pgq.retry_queue (ev_retry_after, ev_queue, ev_id, ev_time, ev_owner)
       select now(), s.sub_queue, 1, now(), s.sub_id from pgq.subscription s
        join pgq.consumer c on c.co_id = s.sub_consumer where c.co_name = 'cmain'`,
    );

    // An idle subconsumer and one with a batch go alone; the group's retry rows stay.
    let r = await db.query("select pgq.unregister_consumer('uq_coop', 'cmain.s1') as r");
    expect(r.rows[0]?.r).toBe(1);
    r = await db.query("select pgq.unregister_consumer('uq_coop', 'cmain.s2') as r");
    expect(r.rows[0]?.r).toBe(1);
    const groupSql = `select c.co_name from pgq.subscription s
       join pgq.consumer c on c.co_id = s.sub_consumer
       join pgq.queue q on q.queue_id = s.sub_queue
      where q.queue_name = 'uq_coop' order by 1`;
    let rows = await db.query(groupSql);
    expect(rows.rows.map((row) => row.co_name)).toEqual(['cmain', 'cmain.s3']);
    const coopRetrySql = `select count(*)::int as n from pgq.retry_queue
      where ev_queue = (select queue_id from pgq.queue where queue_name = 'uq_coop')`;
    const retry = await db.query(coopRetrySql);
    expect(retry.rows[0]?.n).toBe(1);
    const left = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name like 'cmain.%'",
    );
    expect(left.rows[0]?.n).toBe(1);

    // The main consumer takes the rest of the group and the retry rows.
    r = await db.query("select pgq.unregister_consumer('uq_coop', 'cmain') as r");
    expect(r.rows[0]?.r).toBe(2);
    rows = await db.query(groupSql);
    expect(rows.rows).toEqual([]);
    const after = await db.query(coopRetrySql);
    expect(after.rows[0]?.n).toBe(0);
    const names = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name like 'cmain%'",
    );
    expect(names.rows[0]?.n).toBe(0);
  });

  it('unregistering with an open batch works and the batch is gone', async () => {
    await makeQueue(db, 'uq_open');
    await register(db, 'uq_open', 'c');
    await insertEvent(db, 'uq_open', 't', 'x');
    await tick(db, 'uq_open');
    const batchId = await nextBatch(db, 'uq_open', 'c');
    const r = await db.query("select pgq.unregister_consumer('uq_open', 'c') as r");
    expect(r.rows[0]?.r).toBe(1);
    await expectPgError(
      db.query('select * from pgq.get_batch_events($1)', [batchId]),
      'batch not found',
    );
  });
});
