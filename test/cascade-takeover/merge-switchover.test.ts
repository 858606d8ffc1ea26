/**
 * Switchover of a combined queue with merge leaves: partition queue `part` (root p) is
 * merged into cascade `comb` (root c1, branch c2) by a merge leaf in each of c1's and c2's
 * databases. The switchover pauses c1's merge worker, waits until c2's merge position
 * matches, and resumes it at the end; afterwards c2's merge leaf merges (its combined queue
 * is the root now) and c1's waits behind. Every partition event is in the combined queue
 * exactly once, on both nodes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { takeover } from '../../src/cascade/admin/takeover.js';
import { useTestDatabase } from '../harness/database.js';
import type { Node } from '../pgq_node/node-helpers.js';
import {
  createRoot,
  createSubscriber,
  fastTicks,
  labels,
  produceTicked,
  queueData,
  sharedNodes,
  startTicker,
  startWorker,
  useRunners,
  waitFor,
  withSession,
  workerTick,
} from './helpers.js';

const test = useTestDatabase();
let p: Node;
let c1: Node;
let c2: Node;
let c1part: Node;
let c2part: Node;
const runners = useRunners();

beforeAll(async () => {
  [p, c1, c2] = await sharedNodes(test, 'p', 'c1', 'c2');
  await createRoot(p, 'part', 'p_w');
  await createRoot(c1, 'comb', 'c1_w');
  await createSubscriber(c2, c1, 'comb', 'branch', { worker: 'c2_w' });
  c1part = { name: 'c1_part', location: c1.location, db: c1.db };
  c2part = { name: 'c2_part', location: c2.location, db: c2.db };
  await createSubscriber(c1part, p, 'part', 'leaf', { worker: 'c1_part_w', combinedQueue: 'comb' });
  await createSubscriber(c2part, p, 'part', 'leaf', {
    worker: 'c2_part_w',
    combinedQueue: 'comb',
    root: p,
  });
  await fastTicks(p, 'part');
  await fastTicks(c1, 'comb');
  await fastTicks(c2, 'comb');
});

const produce = (values: string[]) => produceTicked(p, 'part', values);

async function merged(node: Node) {
  return queueData(node, 'comb');
}

describe('switchover of a combined queue', () => {
  it('pauses the merge leaf of the old root and keeps every partition event once', async () => {
    for (const [node, queue] of [
      [p, 'part'],
      [c1, 'comb'],
      [c2, 'comb'],
      [c1part, 'part'],
      [c2part, 'part'],
    ] as const) {
      runners.push(startWorker(node, queue));
    }
    runners.push(startTicker([p], 'part'), startTicker([c1, c2], 'comb'));
    const before = labels('before', 20);
    const after = labels('after', 20);

    const top = await produce(before);
    await waitFor('c1 to merge the first part', async () => (await merged(c1)).length >= 20);
    await waitFor('c2 to copy it', async () => (await merged(c2)).length >= 20);
    await waitFor('c2 merge leaf to follow', async () => (await workerTick(c2part, 'part')) >= top);

    const info = await withSession(c2, 'comb', async (session, captured) => {
      await takeover(session, { oldNode: 'c1' });
      return captured.info.join('\n');
    });
    expect(info).toMatch(/step 1\/\d+: pause merge worker c1_part_w of part on c1/);
    expect(info).toMatch(/wait until the merge positions on c2 match c1/);
    expect(info).toMatch(/resume merge worker c1_part_w of part on c1/);
    expect(info).toMatch(/switchover c1 -> c2: done/);

    await produce(after);
    await waitFor('c2 to merge the second part', async () => (await merged(c2)).length >= 40);
    await waitFor('c1 to copy it', async () => (await merged(c1)).length >= 40);
    const all = [...before, ...after];
    expect(await merged(c2)).toEqual(all);
    expect(await merged(c1)).toEqual(all);
  });
});
