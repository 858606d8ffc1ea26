/**
 * Takeover of a branch position: providers move, node types stay. Tree at the start:
 * root -> b1 -> (b2, leaf). First b2 takes over b1 (its own provider) with --all: the leaf
 * moves under b2, b2 moves up under the root, then b1 moves under b2. Then b1 takes b2's
 * place back without --all: b1 moves up, b2 under b1, and the leaf stays with b2. Last, b2
 * is declared dead and b1 takes over with --dead-branch: the leaf moves to b1. Events keep
 * flowing to every node exactly once.
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
  nodeState,
  produceTicked,
  queueData,
  reachTick,
  sharedNodes,
  startTicker,
  startWorker,
  useRunners,
  withSession,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'branchq';
let root: Node;
let b1: Node;
let b2: Node;
let leaf: Node;
const runners = useRunners();

beforeAll(async () => {
  [root, b1, b2, leaf] = await sharedNodes(test, 'root', 'b1', 'b2', 'leaf');
  await createRoot(root, queue);
  await createSubscriber(b1, root, queue, 'branch');
  await createSubscriber(b2, b1, queue, 'branch', { root });
  await createSubscriber(leaf, b1, queue, 'leaf', { root });
  await fastTicks(root, queue);
});

const provider = (node: Node) => nodeState(node, queue);

async function produce(values: string[]) {
  const top = await produceTicked(root, queue, values);
  for (const node of [b1, b2, leaf]) await reachTick(node, queue, top);
}

describe('takeover of a branch position', () => {
  it('moves the new node up and the old one under it; --all moves the subscribers first', async () => {
    for (const node of [root, b1, b2, leaf]) runners.push(startWorker(node, queue));
    runners.push(startTicker([root], queue));
    const parts = [labels('one', 20), labels('two', 20), labels('three', 20)];
    await produce(parts[0] ?? []);

    const first = await withSession(b2, queue, async (session, captured) => {
      await takeover(session, { oldNode: 'b1', all: true });
      return captured.info.join('\n');
    });
    expect(first).toMatch(
      /takeover b1 -> b2: step 1\/3: move leaf under b2 \(a subscriber of b1\)/,
    );
    expect(first).toMatch(/takeover b1 -> b2: step 2\/3: move b2 under root, b1's provider/);
    expect(first).toMatch(/takeover b1 -> b2: step 3\/3: move b1 under b2/);
    expect(await provider(b2)).toEqual({ node_type: 'branch', provider_node: 'root' });
    expect(await provider(b1)).toEqual({ node_type: 'branch', provider_node: 'b2' });
    expect(await provider(leaf)).toEqual({ node_type: 'leaf', provider_node: 'b2' });
    await produce(parts[1] ?? []);

    await withSession(b1, queue, (session) => takeover(session, { oldNode: 'b2' }));
    expect(await provider(b1)).toEqual({ node_type: 'branch', provider_node: 'root' });
    expect(await provider(b2)).toEqual({ node_type: 'branch', provider_node: 'b1' });
    expect(await provider(leaf)).toEqual({ node_type: 'leaf', provider_node: 'b2' });
    await produce(parts[2] ?? []);

    const all = parts.flat();
    for (const node of [root, b1, b2]) expect(await queueData(node, queue)).toEqual(all);
    // Nobody still holds events for a subscription it no longer serves.
    const subs = async (node: Node) =>
      (
        await node.db.query('select node_name from pgq_node.get_subscriber_info($1)', [queue])
      ).rows.map((r) => r.node_name);
    expect(await subs(root)).toEqual(['b1']);
    expect(await subs(b1)).toEqual(['b2']);
    expect(await subs(b2)).toEqual(['leaf']);
  });

  it("--dead-branch: the dead node's subscribers move to the new node; the dead one is left alone", async () => {
    // Now root -> b1 -> b2 -> leaf; b2 is declared dead for the run.
    const out = await withSession(
      b1,
      queue,
      async (session, captured) => {
        await takeover(session, { oldNode: 'b2', deadBranch: true });
        return captured;
      },
      { dead: ['b2'] },
    );
    expect(out.info.join('\n')).toMatch(/move leaf under b1 \(a subscriber of b2\)/);
    expect(out.info.join('\n')).toMatch(/b2 is dead: it stays where it is/);
    expect(await provider(leaf)).toEqual({ node_type: 'leaf', provider_node: 'b1' });
    expect(await provider(b2)).toEqual({ node_type: 'branch', provider_node: 'b1' });
    // The leaf's old subscription on b2 could not be dropped (b2 is dead): said, not hidden.
    expect(out.warn.join('\n')).toMatch(/could not unregister .* from old provider b2/);
    await produce(['after dead branch']);
  });
});
