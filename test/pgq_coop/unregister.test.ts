import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  coopNext,
  eventPerTick,
  expectPgError,
  makeQueue,
  metaState,
  registerSub,
  subRow,
  subRows,
} from './coop-helpers.js';

const db = useTestDatabase();

async function unregister(queue: string, sub: string, handling: number | null): Promise<number> {
  const { rows } = await db.query('select pgq_coop.unregister_subconsumer($1, $2, $3, $4) as r', [
    queue,
    'main',
    sub,
    handling,
  ]);
  return rows[0]?.r;
}

describe('pgq_coop.unregister_subconsumer', () => {
  it('removes an idle subconsumer (any batch handling) and keeps main and siblings', async () => {
    await makeQueue(db, 'idle');
    await registerSub(db, 'idle', 'main', 'a');
    await registerSub(db, 'idle', 'main', 'b');
    expect(await unregister('idle', 'a', 0)).toBe(1);
    expect([...(await subRows(db, 'idle')).keys()].sort()).toEqual(['main', 'main.b']);
    const names = await db.query(
      "select count(*)::int as n from pgq.consumer where co_name = 'main.a'",
    );
    expect(names.rows[0]?.n).toBe(0);
    expect(await unregister('idle', 'a', 0)).toBe(0);
  });

  it('returns 0 for an unknown subconsumer, consumer or queue', async () => {
    await makeQueue(db, 'known');
    await registerSub(db, 'known', 'main', 'a');
    expect(await unregister('known', 'nobody', 0)).toBe(0);
    expect(await unregister('no such queue', 'a', 0)).toBe(0);
    const other = await db.query(
      "select pgq_coop.unregister_subconsumer('known', 'other', 'a', 0) as r",
    );
    expect(other.rows[0]?.r).toBe(0);
  });

  for (const handling of [0, 2, -1, null]) {
    it(`refuses with an open batch and batch_handling ${handling}, changing nothing`, async () => {
      const queue = `open ${handling}`;
      await makeQueue(db, queue);
      await registerSub(db, queue, 'main', 'a');
      await eventPerTick(db, queue, ['e']);
      const batch = await coopNext(db, queue, 'main', 'a');
      const before = await metaState(db);
      await expectPgError(unregister(queue, 'a', handling), 'subconsumer has active batch');
      expect(await metaState(db)).toBe(before);
      expect((await subRow(db, queue, 'main.a')).batch).toBe(batch);
    });
  }

  it('with batch_handling 1 drops the open batch: its events are not handed out again', async () => {
    await makeQueue(db, 'drop');
    await registerSub(db, 'drop', 'main', 'a');
    await registerSub(db, 'drop', 'main', 'b');
    await eventPerTick(db, 'drop', ['lost']);
    const batch = await coopNext(db, 'drop', 'main', 'a');
    expect(await unregister('drop', 'a', 1)).toBe(1);
    expect([...(await subRows(db, 'drop')).keys()].sort()).toEqual(['main', 'main.b']);
    const info = await db.query(
      'select count(*)::int as n from pgq.subscription where sub_batch = $1',
      [batch],
    );
    expect(info.rows[0]?.n).toBe(0);
    expect(await coopNext(db, 'drop', 'main', 'b')).toBeNull();
  });
});
