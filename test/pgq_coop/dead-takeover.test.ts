import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { waitForLockWait } from '../pgq/consumer-helpers.js';
import {
  ageSub,
  batchEvents,
  coopFinish,
  coopNext,
  eventPerTick,
  makeQueue,
  registerSub,
  subRow,
  subRows,
} from './coop-helpers.js';

const db = useTestDatabase();

/** Queue `queue` with subconsumers a and b of 'main'; a holds the first of two batches. */
async function aHoldsBatch(queue: string): Promise<number> {
  await makeQueue(db, queue);
  await registerSub(db, queue, 'main', 'a');
  await registerSub(db, queue, 'main', 'b');
  await eventPerTick(db, queue, ['first', 'second']);
  return (await coopNext(db, queue, 'main', 'a')) as number;
}

describe('dead subconsumer takeover (dead_interval)', () => {
  it('takes over the batch of a sibling inactive for longer, and removes its row', async () => {
    const stale = await aHoldsBatch('dead');
    const held = await subRow(db, 'dead', 'main.a');
    await ageSub(db, 'dead', 'main.a', '2 hours');

    const taken = await coopNext(db, 'dead', 'main', 'b', '1 hour');
    expect(taken).toBe(stale);
    const rows = await subRows(db, 'dead');
    expect(rows.has('main.a')).toBe(false);
    expect(rows.get('main.b')).toMatchObject({
      batch: stale,
      last_tick: held.last_tick,
      next_tick: held.next_tick,
    });
    expect((await batchEvents(db, stale)).map((ev) => ev.ev_data)).toEqual(['first']);
    expect(await coopFinish(db, stale)).toBe(1);
    // Then the queue goes on where the main consumer is: the second batch.
    const next = (await coopNext(db, 'dead', 'main', 'b', '1 hour')) as number;
    expect((await batchEvents(db, next)).map((ev) => ev.ev_data)).toEqual(['second']);
  });

  it('leaves a sibling alone while it is younger than dead_interval', async () => {
    const held = await aHoldsBatch('alive');
    await ageSub(db, 'alive', 'main.a', '10 minutes');
    const other = await coopNext(db, 'alive', 'main', 'b', '1 hour');
    expect(other).not.toBeNull();
    expect(other).not.toBe(held);
    expect((await subRow(db, 'alive', 'main.a')).batch).toBe(held);
  });

  it('never takes over without dead_interval, however old the sibling', async () => {
    const held = await aHoldsBatch('nodead');
    await ageSub(db, 'nodead', 'main.a', '30 days');
    const other = await coopNext(db, 'nodead', 'main', 'b');
    expect(other).not.toBe(held);
    const viaNull = await coopNext(db, 'nodead', 'main', 'c', null);
    expect(viaNull).toBeNull(); // both batches are out; the old one stays with a
    expect((await subRow(db, 'nodead', 'main.a')).batch).toBe(held);
  });

  it('a subconsumer that has a batch of its own keeps it and takes nothing', async () => {
    const held = await aHoldsBatch('own');
    const mine = (await coopNext(db, 'own', 'main', 'b')) as number;
    await ageSub(db, 'own', 'main.a', '2 hours');
    expect(await coopNext(db, 'own', 'main', 'b', '1 hour')).toBe(mine);
    expect((await subRow(db, 'own', 'main.a')).batch).toBe(held);
  });

  it('takes the longest-inactive sibling first', async () => {
    await makeQueue(db, 'oldest');
    for (const sub of ['a', 'b', 'c']) await registerSub(db, 'oldest', 'main', sub);
    await eventPerTick(db, 'oldest', ['1', '2']);
    const aBatch = await coopNext(db, 'oldest', 'main', 'a');
    const bBatch = await coopNext(db, 'oldest', 'main', 'b');
    await ageSub(db, 'oldest', 'main.a', '2 hours');
    await ageSub(db, 'oldest', 'main.b', '3 hours');
    expect(await coopNext(db, 'oldest', 'main', 'c', '1 hour')).toBe(bBatch);
    await coopFinish(db, bBatch as number);
    expect(await coopNext(db, 'oldest', 'main', 'c', '1 hour')).toBe(aBatch);
  });

  it('a dead sibling that returns registers again and gets new work', async () => {
    const stale = await aHoldsBatch('comeback');
    await ageSub(db, 'comeback', 'main.a', '2 hours');
    expect(await coopNext(db, 'comeback', 'main', 'b', '1 hour')).toBe(stale);
    const back = (await coopNext(db, 'comeback', 'main', 'a', '1 hour')) as number;
    expect(back).not.toBe(stale);
    expect((await batchEvents(db, back)).map((ev) => ev.ev_data)).toEqual(['second']);
    expect((await subRow(db, 'comeback', 'main.a')).sub_id).toBe(
      (await subRow(db, 'comeback', 'main')).sub_id,
    );
  });

  it('does not take a batch its owner is finishing at that moment, nor wait for it', async () => {
    const held = await aHoldsBatch('race');
    await ageSub(db, 'race', 'main.a', '2 hours');
    const owner = await db.connect();
    await owner.query('begin');
    expect((await owner.query('select pgq_coop.finish_batch($1) as r', [held])).rows[0]?.r).toBe(1);
    // The owner's transaction is still open: its row is locked, so the taker passes it by.
    const got = await coopNext(db, 'race', 'main', 'b', '1 hour');
    expect(got).not.toBe(held);
    expect((await batchEvents(db, got as number)).map((ev) => ev.ev_data)).toEqual(['second']);
    await owner.query('commit');
    expect((await subRow(db, 'race', 'main.a')).batch).toBeNull();
  });

  it('owner finishing and asking for more in one transaction while a sibling takes over: no deadlock', async () => {
    const held = await aHoldsBatch('deadlock');
    await ageSub(db, 'deadlock', 'main.a', '2 hours');
    const owner = await db.connect();
    const taker = await db.connect();
    await owner.query('begin');
    await owner.query('select pgq_coop.finish_batch($1)', [held]);
    await taker.query('begin');
    const taken = await coopNext(taker, 'deadlock', 'main', 'b', '1 hour');
    const ownerPid = (await owner.query('select pg_backend_pid() as pid')).rows[0]?.pid;
    const asking = coopNext(owner, 'deadlock', 'main', 'a');
    await waitForLockWait(db, ownerPid);
    await taker.query('commit');
    const next = await asking;
    await owner.query('commit');
    expect(taken).not.toBe(held);
    expect(next).toBeNull(); // both batches are out: a finished the first, b has the second
    expect((await subRow(db, 'deadlock', 'main.b')).batch).toBe(taken);
  });
});
