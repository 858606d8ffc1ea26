import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  getLastTick,
  isBatchDone,
  isEventDone,
  setBatchDone,
  setEventDone,
  setLastTick,
} from './ext-helpers.js';

const db = useTestDatabase();

describe('pgq_ext batch tracking', () => {
  it('set_batch_done records a batch once; is_batch_done tells the last one', async () => {
    expect(await isBatchDone(db, 'bt', 10)).toBe(false);
    expect(await setBatchDone(db, 'bt', 10)).toBe(true);
    expect(await isBatchDone(db, 'bt', 10)).toBe(true);
    expect(await setBatchDone(db, 'bt', 10)).toBe(false);
    // The next batch replaces it: only the last batch is remembered.
    expect(await setBatchDone(db, 'bt', 11)).toBe(true);
    expect(await isBatchDone(db, 'bt', 11)).toBe(true);
    expect(await isBatchDone(db, 'bt', 10)).toBe(false);
    const { rows } = await db.query(
      "select consumer_id, subconsumer_id, last_batch_id from pgq_ext.completed_batch where consumer_id = 'bt'",
    );
    expect(rows).toEqual([{ consumer_id: 'bt', subconsumer_id: '', last_batch_id: '11' }]);
  });

  it("the short form is the subconsumer ''; each subconsumer has its own record", async () => {
    expect(await setBatchDone(db, 'subs', 5)).toBe(true);
    expect(await isBatchDone(db, 'subs', 5, '')).toBe(true);
    expect(await isBatchDone(db, 'subs', 5, 'a')).toBe(false);
    expect(await setBatchDone(db, 'subs', 5, 'a')).toBe(true);
    expect(await setBatchDone(db, 'subs', 6, 'b')).toBe(true);
    expect(await isBatchDone(db, 'subs', 5, 'a')).toBe(true);
    expect(await isBatchDone(db, 'subs', 6, 'b')).toBe(true);
    expect(await setBatchDone(db, 'subs', 5, '')).toBe(false);
    expect(await isBatchDone(db, 'other', 5)).toBe(false);
  });

  it('batch ids <= 0 are not recorded but report success', async () => {
    expect(await setBatchDone(db, 'zero', 0)).toBe(true);
    expect(await setBatchDone(db, 'zero', -3)).toBe(true);
    expect(await isBatchDone(db, 'zero', 0)).toBe(false);
    await setBatchDone(db, 'zero', 7);
    expect(await setBatchDone(db, 'zero', 0)).toBe(true);
    expect(await isBatchDone(db, 'zero', 7)).toBe(true);
  });

  it('the record commits or rolls back with the work it guards', async () => {
    await db.query('create table applied (batch bigint)');
    const client = await db.connect();
    await client.query('begin');
    await client.query('insert into applied values (20)');
    expect(await setBatchDone(client, 'tx', 20)).toBe(true);
    await client.query('rollback');
    expect(await isBatchDone(db, 'tx', 20)).toBe(false);

    await client.query('begin');
    if (await setBatchDone(client, 'tx', 20)) await client.query('insert into applied values (20)');
    await client.query('commit');
    await client.query('begin');
    if (await setBatchDone(client, 'tx', 20)) await client.query('insert into applied values (20)');
    await client.query('commit');
    const { rows } = await db.query('select count(*)::int as n from applied');
    expect(rows[0]?.n).toBe(1);
  });
});

describe('pgq_ext event tracking', () => {
  it('set_event_done marks an event once; is_event_done sees it', async () => {
    expect(await isEventDone(db, 'ev', 1, 100)).toBe(false);
    expect(await setEventDone(db, 'ev', 1, 100)).toBe(true);
    expect(await setEventDone(db, 'ev', 1, 101)).toBe(true);
    expect(await setEventDone(db, 'ev', 1, 100)).toBe(false);
    expect(await isEventDone(db, 'ev', 1, 100)).toBe(true);
    expect(await isEventDone(db, 'ev', 1, 102)).toBe(false);
    expect(await isEventDone(db, 'ev', 2, 100)).toBe(false);
  });

  it('the first mark of another batch clears the marks of the previous batch', async () => {
    await setEventDone(db, 'chg', 1, 10);
    await setEventDone(db, 'chg', 1, 11);
    expect(await setEventDone(db, 'chg', 2, 10)).toBe(true);
    expect(await isEventDone(db, 'chg', 1, 10)).toBe(false);
    expect(await isEventDone(db, 'chg', 1, 11)).toBe(false);
    expect(await isEventDone(db, 'chg', 2, 10)).toBe(true);
    const partial = await db.query(
      "select cur_batch_id from pgq_ext.partial_batch where consumer_id = 'chg'",
    );
    expect(partial.rows).toEqual([{ cur_batch_id: '2' }]);
    const marks = await db.query(
      "select batch_id, event_id from pgq_ext.completed_event where consumer_id = 'chg'",
    );
    expect(marks.rows).toEqual([{ batch_id: '2', event_id: '10' }]);
  });

  it('subconsumers keep separate marks and separate current batches', async () => {
    await setEventDone(db, 'evs', 1, 1, 'a');
    await setEventDone(db, 'evs', 5, 1, 'b');
    expect(await isEventDone(db, 'evs', 1, 1, 'a')).toBe(true);
    expect(await isEventDone(db, 'evs', 1, 1, 'b')).toBe(false);
    expect(await isEventDone(db, 'evs', 1, 1)).toBe(false);
    await setEventDone(db, 'evs', 2, 1, 'a');
    expect(await isEventDone(db, 'evs', 5, 1, 'b')).toBe(true);
    expect(await isEventDone(db, 'evs', 1, 1, 'a')).toBe(false);
  });

  it('events and batches are tracked apart', async () => {
    await setEventDone(db, 'apart', 3, 1);
    expect(await isBatchDone(db, 'apart', 3)).toBe(false);
    await setBatchDone(db, 'apart', 3);
    expect(await isEventDone(db, 'apart', 3, 1)).toBe(true);
  });
});

describe('pgq_ext tick tracking', () => {
  it('set_last_tick records, replaces and (with NULL) forgets the position', async () => {
    expect(await getLastTick(db, 'tk')).toBeNull();
    expect(await setLastTick(db, 'tk', 41)).toBe(1);
    expect(await getLastTick(db, 'tk')).toBe(41);
    expect(await setLastTick(db, 'tk', 42)).toBe(1);
    expect(await getLastTick(db, 'tk')).toBe(42);
    expect(await setLastTick(db, 'tk', null)).toBe(1);
    expect(await getLastTick(db, 'tk')).toBeNull();
    const { rows } = await db.query(
      "select count(*)::int as n from pgq_ext.completed_tick where consumer_id = 'tk'",
    );
    expect(rows[0]?.n).toBe(0);
    expect(await setLastTick(db, 'tk', null)).toBe(1);
  });

  it("subconsumer variants; the short form is the subconsumer ''", async () => {
    await setLastTick(db, 'tks', 1);
    await setLastTick(db, 'tks', 2, 'a');
    await setLastTick(db, 'tks', 3, 'b');
    expect(await getLastTick(db, 'tks', '')).toBe(1);
    expect(await getLastTick(db, 'tks', 'a')).toBe(2);
    expect(await getLastTick(db, 'tks', 'b')).toBe(3);
    await setLastTick(db, 'tks', null, 'a');
    expect(await getLastTick(db, 'tks', 'a')).toBeNull();
    expect(await getLastTick(db, 'tks')).toBe(1);
  });

  it('keeps the full bigint range', async () => {
    await setLastTick(db, 'big', Number.MAX_SAFE_INTEGER);
    const { rows } = await db.query("select pgq_ext.set_last_tick('big2', 9223372036854775807)");
    expect(rows).toHaveLength(1);
    const max = await db.query("select pgq_ext.get_last_tick('big2')::text as t");
    expect(max.rows[0]?.t).toBe('9223372036854775807');
    expect(await getLastTick(db, 'big')).toBe(Number.MAX_SAFE_INTEGER);
  });
});
