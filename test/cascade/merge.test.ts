/**
 * Merge-leaves (§2.3): partition queue `part` (root on P) merged into the combined queue
 * `combined` (root on C, branch on D). On C the merge-leaf worker copies the data events
 * into the combined queue with new ids and sends pgq.tick-id; on D the merge-leaf waits
 * behind the combined branch: it takes a partition batch only once the combined queue on D
 * has reached that partition tick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  completedTick,
  createRoot,
  createSubscriber,
  one,
  queueEvents,
  sharedNodes,
  type TestNode,
  tickRoot,
} from './helpers.js';

const test = useTestDatabase();
let p: TestNode;
let c: TestNode;
let d: TestNode;
const workers: CascadedWorker[] = [];

function worker(node: TestNode, queue: string) {
  const made = new CascadedWorker({ connection: node.config, queue });
  workers.push(made);
  return made;
}

beforeAll(async () => {
  [p, c, d] = await sharedNodes(test, 'p', 'c', 'd');
  await createRoot(p, 'part');
  await createRoot(c, 'combined');
  await createSubscriber(d, c, 'combined', 'branch');
  await createSubscriber(c, p, 'part', 'leaf', { combinedQueue: 'combined' });
  await createSubscriber(d, p, 'part', 'leaf', { combinedQueue: 'combined', root: p });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
});

describe('merge-leaf workers', () => {
  it('copy data events into the combined root with pgq.tick-id; wait behind on the combined branch', async () => {
    const cPart = worker(c, 'part');
    const dPart = worker(d, 'part');
    const dCombined = worker(d, 'combined');
    await p.db.query(
      `select pgq.insert_event('part', 'data', 'p' || i, 'tbl', null, null, null) from generate_series(1, 5) i`,
    );
    await p.db.query(`select pgq.insert_event('part', 'londiste.sync', 'internal')`);
    const partTick = await tickRoot(p.db, 'part');

    // D's merge-leaf may not pass the combined queue: nothing merged yet.
    const dStart = await completedTick(d.db, 'part');
    expect(await dPart.runOnce()).toBe(false);
    expect(await completedTick(d.db, 'part')).toBe(dStart);

    expect(await cPart.runOnce()).toBe(true);
    expect(await completedTick(c.db, 'part')).toBe(partTick);
    const merged = await queueEvents(c.db, 'combined');
    const partEvents = (await queueEvents(p.db, 'part')).filter((e) => e.ev_type === 'data');
    const data = merged.filter((e) => e.ev_type === 'data');
    expect(data.map((e) => [e.ev_data, e.ev_extra1, e.ev_time])).toEqual(
      partEvents.map((e) => [e.ev_data, e.ev_extra1, e.ev_time]),
    );
    expect(merged.filter((e) => e.ev_type === 'londiste.sync')).toEqual([]);
    expect(merged.filter((e) => e.ev_type === 'pgq.tick-id')).toMatchObject([
      { ev_data: partTick, ev_extra1: 'part' },
    ]);

    // The combined queue moves on to D; its tick-id sets D's merge-leaf position.
    await tickRoot(c.db, 'combined');
    while (await dCombined.runOnce()) {
      // copy the combined batches to D
    }
    expect(await completedTick(d.db, 'part')).toBe(partTick);
    expect(await dPart.runOnce()).toBe(true);
    const onP = await one(
      p.db,
      `select last_tick::text from pgq.get_consumer_info('part', 'd_worker')`,
    );
    expect(onP.last_tick).toBe(partTick);
    // The combined branch copied the merged events, same ids as on the combined root.
    expect(await queueEvents(d.db, 'combined')).toEqual(merged);
  });
});
