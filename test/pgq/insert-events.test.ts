import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  batchEvents,
  expectPgError,
  finishBatch,
  makeQueue,
  nextBatch,
  register,
  tick,
} from './consumer-helpers.js';
import { eventSeq, inTransaction } from './queue-core-helpers.js';

// pgq.insert_events is ours (not in upstream's API): many events in one call.
const db = useTestDatabase();

async function insertEvents(queue: string, ...arrays: ((string | null)[] | null)[]) {
  const { rows } = await db.query<{ id: string }>(
    'select id from pgq.insert_events($1, $2, $3, $4, $5, $6, $7) id',
    [queue, ...arrays, ...Array(6 - arrays.length).fill(null)],
  );
  return rows.map((row) => Number(row.id));
}

async function countEvents(queue: string): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `select count(*) as n from pgq.event_template e join pgq.queue q
        on e.tableoid in (select inhrelid from pg_inherits where inhparent = q.queue_data_pfx::regclass)
      where q.queue_name = $1`,
    [queue],
  );
  return Number(rows[0]?.n);
}

describe('pgq.insert_events', () => {
  it('inserts every element as an event, ids in array order, delivered in one batch', async () => {
    await makeQueue(db, 'ie_basic');
    await register(db, 'ie_basic', 'c');
    const ids = await insertEvents(
      'ie_basic',
      ['t1', 't2', null],
      ['d1', null, 'd\t3\n"\\ü'],
      ['a', 'b', 'c'],
      null,
      null,
      ['x', null, 'z'],
    );
    expect(ids).toHaveLength(3);
    expect(ids[1]).toBe((ids[0] as number) + 1);
    expect(ids[2]).toBe((ids[0] as number) + 2);
    expect(await eventSeq(db, 'ie_basic')).toBe(ids[2]);
    await tick(db, 'ie_basic');
    const batch = (await nextBatch(db, 'ie_basic', 'c')) as number;
    const events = await batchEvents(db, batch);
    expect(
      events.map((ev) => [
        Number(ev.ev_id),
        ev.ev_type,
        ev.ev_data,
        ev.ev_extra1,
        ev.ev_extra2,
        ev.ev_extra4,
      ]),
    ).toEqual([
      [ids[0], 't1', 'd1', 'a', null, 'x'],
      [ids[1], 't2', null, 'b', null, null],
      [ids[2], null, 'd\t3\n"\\ü', 'c', null, 'z'],
    ]);
    expect(events.every((ev) => ev.ev_retry === null)).toBe(true);
    await finishBatch(db, batch);
  });

  it('is part of the caller transaction: a rollback leaves nothing', async () => {
    await makeQueue(db, 'ie_rollback');
    const client = await db.connect();
    await client.query('begin');
    await client.query("select pgq.insert_events('ie_rollback', null, array['a','b'])");
    await client.query('rollback');
    expect(await countEvents('ie_rollback')).toBe(0);
  });

  it('takes 10 000 events at once and an empty array as no event', async () => {
    await makeQueue(db, 'ie_many');
    const data = Array.from({ length: 10000 }, (_, i) => `event ${i}`);
    const ids = await insertEvents('ie_many', null, data);
    expect(ids).toHaveLength(10000);
    expect(ids.every((id, i) => i === 0 || id === (ids[i - 1] as number) + 1)).toBe(true);
    expect(await insertEvents('ie_many', null, [])).toEqual([]);
    expect(await countEvents('ie_many')).toBe(10000);
  });

  it('refuses arrays of different lengths and a NULL ev_data, inserting nothing', async () => {
    await makeQueue(db, 'ie_bad');
    const seq = await eventSeq(db, 'ie_bad');
    await expectPgError(insertEvents('ie_bad', ['t'], ['a', 'b']), 'Arrays of different lengths');
    await expectPgError(
      insertEvents('ie_bad', null, ['a', 'b'], null, null, ['only one']),
      'Arrays of different lengths',
    );
    await expectPgError(insertEvents('ie_bad', ['t'], null), 'ev_data must not be NULL');
    const err = await insertEvents('ie_bad', ['t'], ['a', 'b']).catch((e: unknown) => e);
    expect((err as { detail?: string }).detail).toBe(
      'queue: ie_bad; ev_data has 2 elements, ev_type has 1',
    );
    expect(await countEvents('ie_bad')).toBe(0);
    expect(await eventSeq(db, 'ie_bad')).toBe(seq);
  });

  it('gives insert_event errors for NULL and unknown queues and disabled inserts', async () => {
    await expectPgError(
      insertEvents(null as unknown as string, null, ['a']),
      'Queue name must not be NULL',
    );
    await expectPgError(insertEvents('ie_no_such_queue', null, ['a']), 'No such queue');
    await makeQueue(db, 'ie_disabled');
    await db.query(
      "update pgq.queue set queue_disable_insert = true where queue_name = 'ie_disabled'",
    );
    await expectPgError(insertEvents('ie_disabled', null, ['a']), 'Insert into queue disallowed');
    const client = await db.connect();
    await inTransaction(client, async (tx) => {
      await tx.query("set local session_replication_role = 'replica'");
      await tx.query("select pgq.insert_events('ie_disabled', null, array['replica'])");
    });
    expect(await countEvents('ie_disabled')).toBe(1);
  });

  it('charges every event of the call to the per-transaction limit', async () => {
    await makeQueue(db, 'ie_limit');
    await db.query("update pgq.queue set queue_per_tx_limit = 3 where queue_name = 'ie_limit'");
    await expectPgError(
      insertEvents('ie_limit', null, ['a', 'b', 'c', 'd']),
      "Queue 'ie_limit' allows max 3 events from one TX",
    );
    const client = await db.connect();
    await client.query('begin');
    await client.query("select pgq.insert_events('ie_limit', null, array['a', 'b'])");
    await client.query("select pgq.insert_event('ie_limit', 't', 'c')");
    await expectPgError(
      client.query("select pgq.insert_events('ie_limit', null, array['d'])"),
      "Queue 'ie_limit' allows max 3 events from one TX",
    );
    await client.query('rollback');
    expect(await insertEvents('ie_limit', null, ['a', 'b', 'c'])).toHaveLength(3);
  });
});
