import { describe, expect, it } from 'vitest';
import {
  batchEvents,
  consumeAll,
  expectPgError,
  finishBatch,
  insertEvent,
  makeQueue,
  nextBatch,
  type Queryable,
  queueRow,
  register,
  tick,
} from './consumer-helpers.js';
import { usePrivateDatabase } from './private-cluster.js';

// Rotation depends on the xmin of tick snapshots, which every transaction of the cluster
// moves: these tests have a cluster of their own.
const db = usePrivateDatabase();

/** A queue that may rotate at every maintenance run. */
async function rotatingQueue(queue: string): Promise<number> {
  await makeQueue(db, queue);
  await db.query("update pgq.queue set queue_rotation_period = '0' where queue_name = $1", [queue]);
  return Number((await queueRow(db, queue)).queue_id);
}

/** Step 1 and step 2 in separate transactions, as pgqd runs them; returns cur_table after. */
async function rotate(queue: string): Promise<number> {
  const step1 = await db.query('select pgq.maint_rotate_tables_step1($1) as r', [queue]);
  expect(step1.rows[0]?.r).toBe(0);
  const step2 = await db.query('select pgq.maint_rotate_tables_step2() as r');
  expect(step2.rows[0]?.r).toBe(0);
  return Number((await queueRow(db, queue)).queue_cur_table);
}

/** Data of the events stored in each data table of the queue. */
async function tableContents(qid: number): Promise<string[][]> {
  const result: string[][] = [];
  for (const n of [0, 1, 2]) {
    const { rows } = await db.query(`select ev_data from pgq.event_${qid}_${n} order by ev_id`);
    result.push(rows.map((row) => row.ev_data));
  }
  return result;
}

async function tickIds(db: Queryable, qid: number): Promise<number[]> {
  const { rows } = await db.query(
    'select tick_id from pgq.tick where tick_queue = $1 order by tick_id',
    [qid],
  );
  return rows.map((row) => Number(row.tick_id));
}

describe('pgq.maint_rotate_tables_step1/step2', () => {
  it('switches tables in turn, truncating the next one', async () => {
    const qid = await rotatingQueue('rot_basic');
    await register(db, 'rot_basic', 'c');
    await insertEvent(db, 'rot_basic', 't', 'e0');
    await tick(db, 'rot_basic');
    expect(await consumeAll(db, 'rot_basic', 'c')).toEqual([['e0']]);

    const step1 = await db.query("select pgq.maint_rotate_tables_step1('rot_basic') as r");
    expect(step1.rows[0]?.r).toBe(0);
    const mid = await queueRow(db, 'rot_basic');
    expect(mid).toMatchObject({ queue_cur_table: 1, queue_switch_step2: null });
    // Step 1 again before step 2: nothing happens.
    await db.query("select pgq.maint_rotate_tables_step1('rot_basic')");
    expect((await queueRow(db, 'rot_basic')).queue_cur_table).toBe(1);
    await db.query('select pgq.maint_rotate_tables_step2()');
    const after = await queueRow(db, 'rot_basic');
    expect(Number(after.queue_switch_step2)).toBeGreaterThan(Number(after.queue_switch_step1));
    expect((after.queue_switch_time as Date).getTime()).toBeGreaterThan(
      (mid.queue_switch_time as Date).getTime() - 1,
    );

    await insertEvent(db, 'rot_basic', 't', 'e1');
    await tick(db, 'rot_basic');
    expect(await consumeAll(db, 'rot_basic', 'c')).toEqual([['e1']]);
    expect(await tableContents(qid)).toEqual([['e0'], ['e1'], []]);

    expect(await rotate('rot_basic')).toBe(2);
    await insertEvent(db, 'rot_basic', 't', 'e2');
    await tick(db, 'rot_basic');
    expect(await consumeAll(db, 'rot_basic', 'c')).toEqual([['e2']]);
    expect(await tableContents(qid)).toEqual([['e0'], ['e1'], ['e2']]);

    // Back to table 0, which is emptied first.
    expect(await rotate('rot_basic')).toBe(0);
    expect(await tableContents(qid)).toEqual([[], ['e1'], ['e2']]);
    await insertEvent(db, 'rot_basic', 't', 'e3');
    await tick(db, 'rot_basic');
    expect(await consumeAll(db, 'rot_basic', 'c')).toEqual([['e3']]);
  });

  it('does nothing before the rotation period has passed, or for unknown queues', async () => {
    await makeQueue(db, 'rot_period');
    await db.query(
      "update pgq.queue set queue_switch_time = now() - interval '1 hour' where queue_name = 'rot_period'",
    );
    const before = await queueRow(db, 'rot_period');
    await db.query("select pgq.maint_rotate_tables_step1('rot_period')");
    expect(await queueRow(db, 'rot_period')).toEqual(before);
    await db.query(
      "update pgq.queue set queue_switch_time = now() - interval '3 hours' where queue_name = 'rot_period'",
    );
    await db.query("select pgq.maint_rotate_tables_step1('rot_period')");
    expect((await queueRow(db, 'rot_period')).queue_cur_table).toBe(1);
    await db.query('select pgq.maint_rotate_tables_step2()');
    for (const name of ['no_such_queue', null]) {
      const r = await db.query('select pgq.maint_rotate_tables_step1($1) as r', [name]);
      expect(r.rows[0]?.r).toBe(0);
    }
  });

  it('a slow consumer blocks rotation until it moves past the previous switch', async () => {
    await rotatingQueue('rot_slow');
    await register(db, 'rot_slow', 'fast');
    await register(db, 'rot_slow', 'slow');
    expect(await rotate('rot_slow')).toBe(1);
    await insertEvent(db, 'rot_slow', 't', 'x');
    await tick(db, 'rot_slow');
    expect(await consumeAll(db, 'rot_slow', 'fast')).toEqual([['x']]);
    // 'slow' still sits at the first tick, from before the switch.
    expect(await rotate('rot_slow')).toBe(1);
    const info = await db.query(
      "select consumer_name, last_tick from pgq.get_consumer_info('rot_slow') order by 1",
    );
    expect(info.rows.map((row) => row.consumer_name)).toEqual(['fast', 'slow']);
    // An open batch does not count as moved.
    const batchId = (await nextBatch(db, 'rot_slow', 'slow')) as number;
    expect(await rotate('rot_slow')).toBe(1);
    await finishBatch(db, batchId);
    expect(await rotate('rot_slow')).toBe(2);
    // Unregistering a slow consumer frees rotation too.
    await insertEvent(db, 'rot_slow', 't', 'y');
    await tick(db, 'rot_slow');
    expect(await consumeAll(db, 'rot_slow', 'fast')).toEqual([['y']]);
    expect(await rotate('rot_slow')).toBe(2);
    await db.query("select pgq.unregister_consumer('rot_slow', 'slow')");
    expect(await rotate('rot_slow')).toBe(0);
  });

  it('skips rotation while the next table is locked', async () => {
    const qid = await rotatingQueue('rot_locked');
    const holder = await db.connect();
    try {
      await holder.query('begin');
      await holder.query(`lock table pgq.event_${qid}_1 in access share mode`);
      expect(await rotate('rot_locked')).toBe(0);
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    expect(await rotate('rot_locked')).toBe(1);
  });

  it('a long transaction spanning a rotation: every event once, rotation waits for it', async () => {
    const qid = await rotatingQueue('rot_long');
    await register(db, 'rot_long', 'c');
    const delivered: string[][] = [];
    const long = await db.connect();
    try {
      await long.query('begin');
      await long.query("select pgq.insert_event('rot_long', 't', 'L1')");
      await insertEvent(db, 'rot_long', 't', 'a1');
      await tick(db, 'rot_long');
      delivered.push(...(await consumeAll(db, 'rot_long', 'c')));

      // Rotation 1 may go ahead: nobody reads from before the creation switch.
      expect(await rotate('rot_long')).toBe(1);
      await long.query("select pgq.insert_event('rot_long', 't', 'L2')");
      await insertEvent(db, 'rot_long', 't', 'b1');
      await tick(db, 'rot_long');
      delivered.push(...(await consumeAll(db, 'rot_long', 'c')));
      expect(await tableContents(qid)).toEqual([['a1'], ['b1'], []]);

      // Rotation 2 must wait: the consumer's position still has the long transaction running.
      expect(await rotate('rot_long')).toBe(1);
      await long.query('commit');
    } finally {
      await long.end();
    }
    // L2 stays in the table of the long transaction's first event, or follows the switch;
    // readers look in both.
    const [first, second, third] = await tableContents(qid);
    expect(third).toEqual([]);
    expect([...(first ?? []), ...(second ?? [])].sort()).toEqual(['L1', 'L2', 'a1', 'b1']);
    expect(first).toEqual(expect.arrayContaining(['L1', 'a1']));
    expect(second).toEqual(expect.arrayContaining(['b1']));
    await tick(db, 'rot_long');
    const batchId = (await nextBatch(db, 'rot_long', 'c')) as number;
    const tables = await db.query('select t from pgq.batch_event_tables($1) t', [batchId]);
    expect(tables.rows.map((row) => row.t)).toEqual([`pgq.event_${qid}_0`, `pgq.event_${qid}_1`]);
    delivered.push((await batchEvents(db, batchId)).map((ev) => ev.ev_data ?? ''));
    await finishBatch(db, batchId);

    expect(await rotate('rot_long')).toBe(2);
    await insertEvent(db, 'rot_long', 't', 'c1');
    await tick(db, 'rot_long');
    delivered.push(...(await consumeAll(db, 'rot_long', 'c')));
    expect(await rotate('rot_long')).toBe(0);
    await insertEvent(db, 'rot_long', 't', 'd1');
    await tick(db, 'rot_long');
    delivered.push(...(await consumeAll(db, 'rot_long', 'c')));
    expect(delivered).toEqual([['a1'], ['b1'], ['L1', 'L2'], ['c1'], ['d1']]);
  });

  it('deletes ticks from before the previous switch, keeping the newest', async () => {
    const qid = await rotatingQueue('rot_ticks');
    await register(db, 'rot_ticks', 'c');
    await tick(db, 'rot_ticks');
    await tick(db, 'rot_ticks');
    await consumeAll(db, 'rot_ticks', 'c');
    expect(await tickIds(db, qid)).toEqual([1, 2, 3]);
    expect(await rotate('rot_ticks')).toBe(1);
    expect(await tickIds(db, qid)).toEqual([1, 2, 3]);
    await tick(db, 'rot_ticks');
    await tick(db, 'rot_ticks');
    await consumeAll(db, 'rot_ticks', 'c');
    expect(await rotate('rot_ticks')).toBe(2);
    expect(await tickIds(db, qid)).toEqual([4, 5]);

    // Without consumers and without new ticks, the newest tick stays all the same.
    await db.query("select pgq.unregister_consumer('rot_ticks', 'c')");
    expect(await rotate('rot_ticks')).toBe(0);
    expect(await tickIds(db, qid)).toEqual([5]);
    expect(await register(db, 'rot_ticks', 'c2')).toBe(1);
  });

  it('reports inconsistent state', async () => {
    await rotatingQueue('rot_err');
    await register(db, 'rot_err', 'c');
    await db.query(
      "update pgq.subscription set sub_last_tick = 999 where sub_queue = (select queue_id from pgq.queue where queue_name = 'rot_err')",
    );
    await expectPgError(
      db.query("select pgq.maint_rotate_tables_step1('rot_err')"),
      'queue rot_err maint failure: tick 999 not found',
    );
    await db.query(
      "update pgq.queue set queue_switch_step1 = 9000000000000 where queue_name = 'rot_err'",
    );
    const client = await db.connect();
    try {
      await client.query('begin');
      const current = (await client.query('select txid_current() as x')).rows[0]?.x;
      await expectPgError(
        client.query("select pgq.maint_rotate_tables_step1('rot_err')"),
        `queue rot_err maint failure: step1=9000000000000, current=${current}`,
      );
      await client.query('rollback');
    } finally {
      await client.end();
    }
  });

  it('step 2 only completes rotations in progress', async () => {
    await rotatingQueue('rot_step2_a');
    await rotatingQueue('rot_step2_b');
    const b = await queueRow(db, 'rot_step2_b');
    await db.query("select pgq.maint_rotate_tables_step1('rot_step2_a')");
    await db.query('select pgq.maint_rotate_tables_step2()');
    expect((await queueRow(db, 'rot_step2_b')).queue_switch_step2).toBe(b.queue_switch_step2);
    expect((await queueRow(db, 'rot_step2_a')).queue_switch_step2).not.toBeNull();
  });
});
