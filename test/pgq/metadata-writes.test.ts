import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();

/** The subscription row's physical version: a new one means a write (and a dead tuple later). */
async function subscriptionRow(consumer: string) {
  const { rows } = await db.query(
    `select s.ctid::text as ctid, s.sub_active, s.sub_batch
       from pgq.subscription s join pgq.consumer c on c.co_id = s.sub_consumer
      where c.co_name = $1`,
    [consumer],
  );
  return rows[0];
}

describe('polling writes no metadata (no dead tuples under a held xmin)', () => {
  it('an empty poll and a repeated poll of an open batch leave the subscription row alone', async () => {
    await db.query("select pgq.create_queue('quiet')");
    await db.query("select pgq.register_consumer('quiet', 'poller')");
    const registered = await subscriptionRow('poller');

    for (let i = 0; i < 5; i++) {
      const { rows } = await db.query("select pgq.next_batch('quiet', 'poller') as b");
      expect(rows[0]?.b).toBeNull();
    }
    expect(await subscriptionRow('poller')).toEqual(registered);

    await db.query("select pgq.insert_event('quiet', 't', 'd')");
    await db.query("select pgq.force_tick('quiet')");
    await db.query("select pgq.ticker('quiet')");
    const { rows } = await db.query("select pgq.next_batch('quiet', 'poller') as b");
    const opened = await subscriptionRow('poller');
    expect(opened?.sub_batch).toBe(rows[0]?.b);
    expect(opened?.ctid).not.toBe(registered?.ctid);

    for (let i = 0; i < 5; i++) {
      const again = await db.query("select pgq.next_batch('quiet', 'poller') as b");
      expect(again.rows[0]?.b).toBe(rows[0]?.b);
    }
    expect(await subscriptionRow('poller')).toEqual(opened);
  });
});
