/**
 * sync_watermark (§2.4): two branches that must be able to replace each other keep their
 * global watermark at the lowest local watermark of the pair, capped by the root's global
 * watermark, instead of taking the root's value as it comes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  createRoot,
  createSubscriber,
  drain,
  one,
  sharedNodes,
  type TestNode,
  tickRoot,
  useLoopWorkers,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'sq';
let root: TestNode;
let b1: TestNode;
let b2: TestNode;
const { worker: loopWorker } = useLoopWorkers();
const worker = (node: TestNode) => loopWorker(node, queue);

beforeAll(async () => {
  [root, b1, b2] = await sharedNodes(test, 'root', 'b1', 'b2');
  await createRoot(root, queue);
  await createSubscriber(b1, root, queue, 'branch');
  await createSubscriber(b2, root, queue, 'branch');
  for (const node of [b1, b2]) {
    await node.db.query('select * from pgq_node.set_node_attrs($1, $2)', [
      queue,
      'sync_watermark=b1,b2',
    ]);
  }
});

async function globalWatermark(node: TestNode): Promise<string> {
  return (await one(node.db, 'select * from pgq_node.get_node_info($1)', [queue])).global_watermark;
}

describe('sync_watermark branches', () => {
  it('hold their global watermark at the pair’s lowest local watermark, up to the root’s', async () => {
    const w1 = worker(b1);
    const w2 = worker(b2);
    const rootWorker = worker(root);
    // A slow reader on b2 holds b2's local watermark at the start.
    const start = await globalWatermark(b2);
    await b2.db.query(`select pgq.register_consumer_at($1, 'slow', $2)`, [queue, start]);
    for (let i = 0; i < 3; i++) {
      await root.db.query(`select pgq.insert_event($1, 'data', $2)`, [queue, `s${i}`]);
      await tickRoot(root.db, queue);
    }
    await drain(w1, w2);
    await drain(w1, w2);
    await rootWorker.runOnce();
    const published = await globalWatermark(root);
    expect(Number(published)).toBeGreaterThan(Number(start));
    await tickRoot(root.db, queue);
    await drain(w1, w2);
    await drain(w1, w2);
    // Not the root's value: b2 still needs its queue from `start` on.
    expect(await globalWatermark(b1)).toBe(start);
    expect(await globalWatermark(b2)).toBe(start);

    await b2.db.query(`select pgq.unregister_consumer($1, 'slow')`, [queue]);
    await w1.runOnce();
    await w2.runOnce();
    expect(await globalWatermark(b1)).toBe(published);
    expect(await globalWatermark(b2)).toBe(published);
  });
});
