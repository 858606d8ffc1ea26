import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { waitForLockWait } from '../pgq/consumer-helpers.js';
import { isBatchDone, isEventDone, setBatchDone, setEventDone } from './ext-helpers.js';

const db = useTestDatabase();

async function pidOf(client: pg.Client): Promise<number> {
  return (await client.query('select pg_backend_pid() as pid')).rows[0]?.pid;
}

/**
 * Two sessions record the same thing inside open transactions, as two copies of one remote
 * consumer would: `second` must wait for `first`, then see what `first` committed.
 */
async function race<T>(
  call: (client: pg.Client) => Promise<T>,
  end: 'commit' | 'rollback',
): Promise<[T, T]> {
  const first = await db.connect();
  const second = await db.connect();
  await first.query('begin');
  await second.query('begin');
  const a = await call(first);
  const pid = await pidOf(second);
  const waiting = call(second);
  await waitForLockWait(db, pid);
  await first.query(end);
  const b = await waiting;
  await second.query('commit');
  await first.end();
  await second.end();
  return [a, b];
}

describe('pgq_ext with two sessions at once', () => {
  it('set_batch_done of a new consumer: the second session waits and gets false', async () => {
    expect(await race((c) => setBatchDone(c, 'race new', 1), 'commit')).toEqual([true, false]);
  });

  it('set_batch_done of a known consumer: the second session waits and gets false', async () => {
    await setBatchDone(db, 'race known', 1);
    expect(await race((c) => setBatchDone(c, 'race known', 2), 'commit')).toEqual([true, false]);
    expect(await isBatchDone(db, 'race known', 2)).toBe(true);
  });

  it('when the first session rolls back, the second one records the batch', async () => {
    await setBatchDone(db, 'race rb', 1);
    expect(await race((c) => setBatchDone(c, 'race rb', 2), 'rollback')).toEqual([true, true]);
    expect(await isBatchDone(db, 'race rb', 2)).toBe(true);
  });

  it('set_event_done of the same event: true once, false for the session that waited', async () => {
    expect(await race((c) => setEventDone(c, 'race ev', 1, 7), 'commit')).toEqual([true, false]);
    await setEventDone(db, 'race ev', 1, 8);
    expect(await race((c) => setEventDone(c, 'race ev', 1, 9), 'commit')).toEqual([true, false]);
    expect(await isEventDone(db, 'race ev', 1, 9)).toBe(true);
  });

  it('many sessions applying the same batches: each batch applied exactly once', async () => {
    await db.query('create table applied (batch bigint primary key)');
    const sessions = await Promise.all(Array.from({ length: 4 }, () => db.connect()));
    const apply = async (client: pg.Client, batch: number) => {
      await client.query('begin');
      if (await setBatchDone(client, 'many', batch)) {
        await client.query('insert into applied values ($1)', [batch]);
      }
      await client.query('commit');
    };
    for (let batch = 1; batch <= 30; batch++) {
      await Promise.all(sessions.map((client) => apply(client, batch)));
    }
    const { rows } = await db.query('select count(*)::int as n from applied');
    expect(rows[0]?.n).toBe(30);
  });
});
