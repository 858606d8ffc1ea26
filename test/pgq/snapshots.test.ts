import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  batchEvents,
  burnTxids,
  consume,
  consumeAll,
  finishBatch,
  insertEvent,
  makeQueue,
  nextBatch,
  register,
  tick,
} from './consumer-helpers.js';

const db = useTestDatabase();

async function batchSql(batchId: number): Promise<string> {
  const { rows } = await db.query<{ sql: string }>('select pgq.batch_event_sql($1) as sql', [
    batchId,
  ]);
  return rows[0]?.sql ?? '';
}

/** The txids of the IN list of a batch's SQL (empty when it has none). */
function inList(sql: string): string[] {
  const match = /ev\.ev_txid in \(([\d,]+)\)/.exec(sql);
  return match?.[1] ? match[1].split(',') : [];
}

describe('batches are bounded by tick snapshots', () => {
  it('two overlapping transactions committing in reverse order around ticks', async () => {
    await makeQueue(db, 'snap_reverse');
    await register(db, 'snap_reverse', 'c');
    const early = await db.connect();
    const late = await db.connect();
    const ours: string[] = [];
    try {
      await early.query('begin');
      await early.query("select pgq.insert_event('snap_reverse', 't', 'early')");
      await late.query('begin');
      await late.query("select pgq.insert_event('snap_reverse', 't', 'late')");
      for (const client of [early, late]) {
        ours.push(String((await client.query('select txid_current() as x')).rows[0]?.x));
      }
      await insertEvent(db, 'snap_reverse', 't', 'committed-1');
      await tick(db, 'snap_reverse'); // both running
      await late.query('commit');
      await tick(db, 'snap_reverse'); // late visible, early running
      await early.query("select pgq.insert_event('snap_reverse', 't', 'early-2')");
      await early.query('commit');
      await insertEvent(db, 'snap_reverse', 't', 'committed-2');
      await tick(db, 'snap_reverse');
      await tick(db, 'snap_reverse');
    } finally {
      await early.end();
      await late.end();
    }
    const batches: string[][] = [];
    const sqls: string[] = [];
    for (;;) {
      const batchId = await nextBatch(db, 'snap_reverse', 'c');
      if (batchId === null) break;
      sqls.push(await batchSql(batchId));
      batches.push((await batchEvents(db, batchId)).map((ev) => ev.ev_data ?? ''));
      await finishBatch(db, batchId);
    }
    expect(batches).toEqual([['committed-1'], ['late'], ['early', 'early-2', 'committed-2'], []]);
    // Our txids that were running at a start tick lie close below its xmax: folded into the
    // range scan, not in an IN list (which may hold other sessions' transactions).
    for (const sql of sqls) {
      for (const txid of ours) expect(inList(sql)).not.toContain(txid);
    }
  });

  it('a transaction open across many ticks and txids is delivered once, via the IN list', async () => {
    await makeQueue(db, 'snap_long');
    await register(db, 'snap_long', 'c');
    const long = await db.connect();
    try {
      await long.query('begin');
      await long.query("select pgq.insert_event('snap_long', 't', 'long-1')");
      const txid = (await long.query('select txid_current() as x')).rows[0]?.x as string;
      const seen: string[][] = [];
      for (let round = 0; round < 3; round++) {
        await insertEvent(db, 'snap_long', 't', `short-${round}`);
        await burnTxids(db, 60);
        await tick(db, 'snap_long');
        seen.push(...(await consumeAll(db, 'snap_long', 'c')));
      }
      expect(seen).toEqual([['short-0'], ['short-1'], ['short-2']]);
      await long.query("select pgq.insert_event('snap_long', 't', 'long-2')");
      await long.query('commit');
      await tick(db, 'snap_long');
      const batchId = (await nextBatch(db, 'snap_long', 'c')) as number;
      const sql = await batchSql(batchId);
      expect(inList(sql)).toContain(String(txid));
      expect((await batchEvents(db, batchId)).map((ev) => ev.ev_data)).toEqual([
        'long-1',
        'long-2',
      ]);
      await finishBatch(db, batchId);
      await tick(db, 'snap_long');
      expect(await consumeAll(db, 'snap_long', 'c')).toEqual([[]]);
    } finally {
      await long.end();
    }
  });

  it('events of rolled-back transactions are never delivered', async () => {
    await makeQueue(db, 'snap_rollback');
    await register(db, 'snap_rollback', 'c');
    const client = await db.connect();
    try {
      await client.query('begin');
      await client.query("select pgq.insert_event('snap_rollback', 't', 'lost')");
      await tick(db, 'snap_rollback');
      await client.query('rollback');
      await client.query('begin');
      await client.query("select pgq.insert_event('snap_rollback', 't', 'kept')");
      await client.query('savepoint s');
      await client.query("select pgq.insert_event('snap_rollback', 't', 'lost-in-savepoint')");
      await client.query('rollback to savepoint s');
      await client.query('commit');
    } finally {
      await client.end();
    }
    await tick(db, 'snap_rollback');
    expect(await consumeAll(db, 'snap_rollback', 'c')).toEqual([[], ['kept']]);
  });

  it('batch SQL reads by txid range, filters retry owners and orders by ev_id', async () => {
    await makeQueue(db, 'snap_sql');
    await register(db, 'snap_sql', 'c');
    await insertEvent(db, 'snap_sql', 't', 'x');
    await tick(db, 'snap_sql');
    const batchId = (await nextBatch(db, 'snap_sql', 'c')) as number;
    const sql = await batchSql(batchId);
    const { rows } = await db.query(
      `select s.sub_id, q.queue_id from pgq.subscription s join pgq.queue q on q.queue_id = s.sub_queue
        where s.sub_batch = $1`,
      [batchId],
    );
    expect(sql).toContain(`(ev.ev_owner is null or ev.ev_owner = ${rows[0]?.sub_id})`);
    expect(sql).toContain(`from pgq.event_${rows[0]?.queue_id}_0 ev`);
    expect(sql).toMatch(/ev\.ev_txid >= \d+ and ev\.ev_txid < \d+/);
    expect(sql).toMatch(/order by 1$/);
    // The generated SQL runs as it is.
    const direct = await db.query(sql);
    expect(direct.rows.map((row) => row.ev_data)).toEqual(['x']);
    // The first batch starts at the tick create_queue made, in the same transaction that
    // recorded the queue's table switch: it may span the previous table (empty) and the current.
    const qid = rows[0]?.queue_id;
    const tables = await db.query('select * from pgq.batch_event_tables($1) t', [batchId]);
    expect(tables.rows).toEqual([{ t: `pgq.event_${qid}_2` }, { t: `pgq.event_${qid}_0` }]);
    await finishBatch(db, batchId);
    // Later batches begin after the switch: only the current table (unless a transaction of
    // another test, older than the switch, was still running at the start tick).
    await tick(db, 'snap_sql');
    const second = (await nextBatch(db, 'snap_sql', 'c')) as number;
    const later = await db.query('select * from pgq.batch_event_tables($1) t', [second]);
    const { rows: state } = await db.query(
      `select txid_snapshot_xmin(t.tick_snapshot) > q.queue_switch_step2 as after_switch
         from pgq.subscription s join pgq.queue q on q.queue_id = s.sub_queue
         join pgq.tick t on t.tick_queue = s.sub_queue and t.tick_id = s.sub_last_tick
        where s.sub_batch = $1`,
      [second],
    );
    if (state[0]?.after_switch) {
      expect(later.rows).toEqual([{ t: `pgq.event_${qid}_0` }]);
      expect(await batchSql(second)).not.toMatch(/union all/);
    } else {
      expect(later.rows).toEqual([{ t: `pgq.event_${qid}_2` }, { t: `pgq.event_${qid}_0` }]);
    }
  });

  it('unknown batches are reported', async () => {
    await expect(db.query('select pgq.batch_event_sql(987654)')).rejects.toMatchObject({
      message: 'batch not found',
      code: 'P0001',
    });
    await expect(db.query('select * from pgq.get_batch_events(987654)')).rejects.toMatchObject({
      message: 'batch not found',
    });
    await expect(db.query('select * from pgq.get_batch_events(null)')).rejects.toMatchObject({
      message: 'batch not found',
    });
    await expect(db.query('select pgq.batch_event_tables(987654)')).rejects.toMatchObject({
      message: 'Cannot find data for batch 987654',
      code: 'P0001',
    });
  });

  it('a consumer lagging several ticks sees each event once', async () => {
    await makeQueue(db, 'snap_each');
    await register(db, 'snap_each', 'c');
    const expected: string[] = [];
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 3; j++) {
        await insertEvent(db, 'snap_each', 't', `${i}.${j}`);
        expected.push(`${i}.${j}`);
      }
      await tick(db, 'snap_each');
    }
    const batches = await consumeAll(db, 'snap_each', 'c');
    expect(batches).toHaveLength(5);
    expect(batches.flat()).toEqual(expected);
    expect(await consume(db, 'snap_each', 'c')).toBeNull();
  });
});
