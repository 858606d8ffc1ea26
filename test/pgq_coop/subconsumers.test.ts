import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  batchEvents,
  collectNotices,
  coopFinish,
  coopNext,
  eventPerTick,
  makeQueue,
  registerSub,
  subRow,
  subRows,
  tick,
} from './coop-helpers.js';

const db = useTestDatabase();

describe('pgq_coop.register_subconsumer', () => {
  it('registers the main consumer and the subconsumer, sharing sub_id, with no ticks', async () => {
    await makeQueue(db, 'reg');
    expect(await registerSub(db, 'reg', 'main', 's1')).toBe(1);
    expect(await registerSub(db, 'reg', 'main', 's1')).toBe(0);
    expect(await registerSub(db, 'reg', 'main', 's2')).toBe(1);
    const rows = await subRows(db, 'reg');
    expect([...rows.keys()].sort()).toEqual(['main', 'main.s1', 'main.s2']);
    const main = rows.get('main');
    expect(main?.last_tick).not.toBeNull();
    for (const name of ['main.s1', 'main.s2']) {
      expect(rows.get(name)).toMatchObject({
        sub_id: main?.sub_id,
        last_tick: null,
        next_tick: null,
        batch: null,
      });
    }
  });

  it('joins an already registered main consumer without moving it', async () => {
    await makeQueue(db, 'reg2');
    await db.query("select pgq.register_consumer('reg2', 'main')");
    const before = await subRow(db, 'reg2', 'main');
    await tick(db, 'reg2');
    expect(await registerSub(db, 'reg2', 'main', 'only')).toBe(1);
    expect(await subRow(db, 'reg2', 'main')).toMatchObject({
      sub_id: before.sub_id,
      last_tick: before.last_tick,
    });
  });
});

describe('pgq_coop.next_batch', () => {
  it('gives two subconsumers disjoint batches and moves the main position on', async () => {
    await makeQueue(db, 'split');
    await registerSub(db, 'split', 'main', 'a');
    await registerSub(db, 'split', 'main', 'b');
    const start = (await subRow(db, 'split', 'main')).last_tick;
    await eventPerTick(db, 'split', ['one', 'two']);

    const a = await coopNext(db, 'split', 'main', 'a');
    const b = await coopNext(db, 'split', 'main', 'b');
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(a).not.toBe(b);
    expect((await batchEvents(db, a as number)).map((ev) => ev.ev_data)).toEqual(['one']);
    expect((await batchEvents(db, b as number)).map((ev) => ev.ev_data)).toEqual(['two']);

    const rows = await subRows(db, 'split');
    expect(rows.get('main')).toMatchObject({
      last_tick: (start as number) + 2,
      next_tick: null,
      batch: null,
    });
    expect(rows.get('main.a')).toMatchObject({
      batch: a,
      last_tick: start,
      next_tick: (start as number) + 1,
    });
    expect(rows.get('main.b')).toMatchObject({
      batch: b,
      last_tick: (start as number) + 1,
      next_tick: (start as number) + 2,
    });
    const info = await db.query(
      'select consumer_name, prev_tick_id, tick_id from pgq.get_batch_info($1)',
      [a],
    );
    expect(info.rows[0]).toMatchObject({
      consumer_name: 'main.a',
      prev_tick_id: String(start),
      tick_id: String((start as number) + 1),
    });
  });

  it('hands out the open batch again until finish_batch, then the next one', async () => {
    await makeQueue(db, 'again');
    await registerSub(db, 'again', 'main', 'a');
    await eventPerTick(db, 'again', ['x', 'y']);
    const first = await coopNext(db, 'again', 'main', 'a');
    await db.query(
      `update pgq.subscription set sub_active = now() - interval '1 hour'
        where sub_batch = $1`,
      [first],
    );
    expect(await coopNext(db, 'again', 'main', 'a')).toBe(first);
    // Asking again is a sign of life: sub_active is fresh again.
    const { rows } = await db.query(
      "select sub_active > now() - interval '1 minute' as fresh from pgq.subscription where sub_batch = $1",
      [first],
    );
    expect(rows[0]?.fresh).toBe(true);

    expect(await coopFinish(db, first as number)).toBe(1);
    expect(await subRow(db, 'again', 'main.a')).toMatchObject({
      batch: null,
      last_tick: null,
      next_tick: null,
    });
    const second = await coopNext(db, 'again', 'main', 'a');
    expect(second).not.toBe(first);
    expect((await batchEvents(db, second as number)).map((ev) => ev.ev_data)).toEqual(['y']);
    await coopFinish(db, second as number);
    expect(await coopNext(db, 'again', 'main', 'a')).toBeNull();
  });

  it('registers main consumer and subconsumer on first use', async () => {
    await makeQueue(db, 'auto');
    expect(await coopNext(db, 'auto', 'fresh', 'first')).toBeNull();
    const rows = await subRows(db, 'auto');
    expect([...rows.keys()].sort()).toEqual(['fresh', 'fresh.first']);
    expect(rows.get('fresh.first')?.sub_id).toBe(rows.get('fresh')?.sub_id);
    await eventPerTick(db, 'auto', ['later']);
    const batch = await coopNext(db, 'auto', 'fresh', 'second');
    expect((await batchEvents(db, batch as number)).map((ev) => ev.ev_data)).toEqual(['later']);
  });

  it('returns NULL and writes nothing when there is no new tick', async () => {
    await makeQueue(db, 'idle');
    await registerSub(db, 'idle', 'main', 'a');
    const before = JSON.stringify([...(await subRows(db, 'idle')).values()]);
    expect(await coopNext(db, 'idle', 'main', 'a')).toBeNull();
    expect(JSON.stringify([...(await subRows(db, 'idle')).values()])).toBe(before);
  });

  it('next_batch_custom honours min_count: no batch until enough events', async () => {
    await makeQueue(db, 'custom');
    await registerSub(db, 'custom', 'main', 'a');
    await eventPerTick(db, 'custom', ['1']);
    const call = 'select pgq_coop.next_batch_custom($1, $2, $3, null, 3, null) as b';
    const none = await db.query(call, ['custom', 'main', 'a']);
    expect(none.rows[0]?.b).toBeNull();
    await eventPerTick(db, 'custom', ['2', '3', '4', '5']);
    const some = await db.query(call, ['custom', 'main', 'a']);
    expect(some.rows[0]?.b).not.toBeNull();
    const events = (await batchEvents(db, Number(some.rows[0]?.b))).map((ev) => ev.ev_data);
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events).toEqual(['1', '2', '3', '4', '5'].slice(0, events.length));
    // The 7-argument form with a NULL dead_interval behaves the same.
    await coopFinish(db, Number(some.rows[0]?.b));
    const seven = await db.query(
      'select pgq_coop.next_batch_custom($1, $2, $3, null, null, null, null) as b',
      ['custom', 'main', 'a'],
    );
    expect(seven.rows[0]?.b).toBeNull();
  });

  it('shares retry events across the group: a retried event comes back to any member', async () => {
    await makeQueue(db, 'retry');
    await registerSub(db, 'retry', 'main', 'a');
    await registerSub(db, 'retry', 'main', 'b');
    await eventPerTick(db, 'retry', ['again']);
    const batch = (await coopNext(db, 'retry', 'main', 'a')) as number;
    const [event] = await batchEvents(db, batch);
    await db.query('select pgq.event_retry($1, $2, 0)', [batch, event?.ev_id]);
    await coopFinish(db, batch);
    await db.query('select pgq.maint_retry_events()');
    await tick(db, 'retry');
    const next = (await coopNext(db, 'retry', 'main', 'b')) as number;
    const events = await batchEvents(db, next);
    expect(events.map((ev) => [ev.ev_data, ev.ev_retry])).toEqual([['again', 1]]);
  });
});

describe('pgq_coop.finish_batch', () => {
  it('returns 0 with a warning for an unknown batch and changes nothing', async () => {
    const client = await db.connect();
    const { result, notices } = await collectNotices(client, () =>
      client.query('select pgq_coop.finish_batch(987654321) as r'),
    );
    expect(result.rows[0]?.r).toBe(0);
    expect(notices).toEqual([
      { severity: 'WARNING', message: 'coop_finish_batch: batch 987654321 not found' },
    ]);
  });

  it('a finished batch cannot be finished twice', async () => {
    await makeQueue(db, 'twice');
    await registerSub(db, 'twice', 'main', 'a');
    await eventPerTick(db, 'twice', ['e']);
    const batch = (await coopNext(db, 'twice', 'main', 'a')) as number;
    expect(await coopFinish(db, batch)).toBe(1);
    expect(await coopFinish(db, batch)).toBe(0);
  });
});

describe('pgq.unregister_consumer on cooperative consumers', () => {
  it('removes one subconsumer by its full name, and the whole group by the main name', async () => {
    await makeQueue(db, 'unreg');
    await registerSub(db, 'unreg', 'main', 'a');
    await registerSub(db, 'unreg', 'main', 'b');
    await eventPerTick(db, 'unreg', ['e']);
    await coopNext(db, 'unreg', 'main', 'b');
    const one = await db.query("select pgq.unregister_consumer('unreg', 'main.a') as n");
    expect(one.rows[0]?.n).toBe(1);
    expect([...(await subRows(db, 'unreg')).keys()].sort()).toEqual(['main', 'main.b']);
    const all = await db.query("select pgq.unregister_consumer('unreg', 'main') as n");
    expect(all.rows[0]?.n).toBe(2);
    expect((await subRows(db, 'unreg')).size).toBe(0);
  });
});
