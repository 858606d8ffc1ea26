import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  expectPgError,
  extState,
  getLastTick,
  hostileNames,
  isBatchDone,
  isEventDone,
  setBatchDone,
  setEventDone,
  setLastTick,
} from './ext-helpers.js';

const db = useTestDatabase();

describe('pgq_ext bad input', () => {
  it('a NULL consumer cannot be recorded: the NOT NULL error names the column, nothing is written', async () => {
    const before = await extState(db);
    await expectPgError(
      setBatchDone(db, null as never, 1),
      'null value in column "consumer_id" of relation "completed_batch" violates not-null constraint',
      '23502',
    );
    await expectPgError(
      setEventDone(db, null as never, 1, 1),
      'null value in column "consumer_id" of relation "partial_batch" violates not-null constraint',
      '23502',
    );
    await expectPgError(
      setLastTick(db, null as never, 1),
      'null value in column "consumer_id" of relation "completed_tick" violates not-null constraint',
      '23502',
    );
    await expectPgError(
      setBatchDone(db, 'c', 1, null as never),
      'null value in column "subconsumer_id" of relation "completed_batch" violates not-null constraint',
      '23502',
    );
    await expectPgError(
      setEventDone(db, 'c', null as never, 1),
      'null value in column "cur_batch_id" of relation "partial_batch" violates not-null constraint',
      '23502',
    );
    await setEventDone(db, 'c', 1, 1);
    const withEvent = await extState(db);
    await expectPgError(
      setEventDone(db, 'c', 1, null as never),
      'null value in column "event_id" of relation "completed_event" violates not-null constraint',
      '23502',
    );
    expect(await extState(db)).toBe(withEvent);
    await db.query('delete from pgq_ext.completed_event; delete from pgq_ext.partial_batch');
    expect(await extState(db)).toBe(before);
  });

  it('lookups with NULLs find nothing', async () => {
    await setBatchDone(db, 'n', 1);
    expect(await isBatchDone(db, null as never, 1)).toBe(false);
    expect(await isBatchDone(db, 'n', 1, null as never)).toBe(false);
    expect(await isEventDone(db, 'n', null as never, 1)).toBe(false);
    expect(await getLastTick(db, null as never)).toBeNull();
  });

  it('a NULL batch id records nothing (as upstream: set_batch_done still says true)', async () => {
    const before = await extState(db);
    expect(await setBatchDone(db, 'nb', null as never)).toBe(true);
    expect(await extState(db)).toBe(before);
  });

  it('hostile consumer names are plain values: stored as given, nothing injected', async () => {
    await db.query('create table victim (id int); insert into victim values (1)');
    for (const [i, name] of hostileNames.entries()) {
      const sub = hostileNames[(i + 3) % hostileNames.length] as string;
      expect(await setBatchDone(db, name, i + 1, sub)).toBe(true);
      expect(await isBatchDone(db, name, i + 1, sub)).toBe(true);
      expect(await isBatchDone(db, name, i + 1)).toBe(false);
      expect(await setEventDone(db, name, i + 1, 9, sub)).toBe(true);
      expect(await isEventDone(db, name, i + 1, 9, sub)).toBe(true);
      await setLastTick(db, name, i + 100, sub);
      expect(await getLastTick(db, name, sub)).toBe(i + 100);
    }
    const stored = await db.query('select consumer_id from pgq_ext.completed_batch order by 1');
    expect(stored.rows.map((row) => row.consumer_id)).toEqual(
      expect.arrayContaining([...hostileNames]),
    );
    const { rows } = await db.query('select count(*)::int as n from victim');
    expect(rows[0]?.n).toBe(1);
  });
});
