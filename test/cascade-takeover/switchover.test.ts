/**
 * Switchover root <-> branch under a steady producer, on two clusters with a leaf on a
 * third: takeover onto the branch, then back. A producer keeps inserting on whichever node
 * takes writes; a cascaded consumer on the leaf (reading the old root, which becomes a
 * branch in between) must see every committed event exactly once, in order, and both nodes'
 * queues must hold every event exactly once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { takeover } from '../../src/cascade/admin/takeover.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';
import type { Node } from '../pgq_node/node-helpers.js';
import {
  clusterNode,
  nodeState,
  queueData,
  rootBranchLeaf,
  sharedNode,
  startAudit,
  startProducer,
  startTicker,
  startWorker,
  useRunners,
  waitFor,
  withSession,
} from './helpers.js';

const test = useTestDatabase();
const startCluster = useExtraClusters();
const queue = 'switch q';
const stress = process.env.SKYTOOLS_STRESS === '1';
/** Deadline of each wait: the long form produces far more. */
const waitSeconds = stress ? 600 : 30;
let root: Node;
let branch: Node;
let leaf: Node;
const runners = useRunners();

beforeAll(async () => {
  const [a, b] = await Promise.all([startCluster(), startCluster()]);
  root = await clusterNode(a, 'node_r');
  branch = await clusterNode(b, 'node_b');
  leaf = await sharedNode(test, 'leaf');
  await rootBranchLeaf(root, branch, leaf, queue);
});

const nodeType = (node: Node) => nodeState(node, queue);

describe('takeover of a live root (switchover)', () => {
  it('moves the root there and back under a steady producer; every event seen exactly once', {
    timeout: stress ? 3_600_000 : 60_000,
  }, async () => {
    for (const node of [root, branch, leaf]) runners.push(startWorker(node, queue));
    runners.push(startTicker([root, branch], queue));
    const audit = await startAudit(leaf, root, queue, 'audit');
    runners.push(audit);
    const producer = startProducer([root, branch], queue);
    const step = stress ? 2000 : 150;

    await waitFor(
      'events before the first switchover',
      async () => producer.committed.length >= step,
      waitSeconds,
    );
    const firstInfo = await withSession(branch, queue, async (session, captured) => {
      // --all: the leaf, the old root's other subscriber, moves under the new root too.
      await takeover(session, { oldNode: 'node_r', all: true });
      return captured.info;
    });
    expect(await nodeType(branch)).toEqual({ node_type: 'root', provider_node: 'node_b' });
    expect(await nodeType(root)).toEqual({ node_type: 'branch', provider_node: 'node_b' });
    expect(await nodeType(leaf)).toEqual({ node_type: 'leaf', provider_node: 'node_b' });
    expect(firstInfo.some((line) => /switchover node_r -> node_b: step 1\/\d+/.test(line))).toBe(
      true,
    );
    expect(firstInfo.some((line) => /switchover node_r -> node_b: done/.test(line))).toBe(true);
    expect(firstInfo.at(-1)).toMatch(/move subscribers of node_r to node_b: done/);

    const afterFirst = producer.committed.length;
    await waitFor(
      'events on the new root',
      async () => producer.committed.length >= afterFirst + step,
      waitSeconds,
    );
    await withSession(root, queue, (session) => takeover(session, { oldNode: 'node_b' }));
    expect(await nodeType(root)).toEqual({ node_type: 'root', provider_node: 'node_r' });
    expect(await nodeType(branch)).toEqual({ node_type: 'branch', provider_node: 'node_r' });

    // The long form goes on switching back and forth.
    for (let round = 0; round < (stress ? 6 : 0); round++) {
      const [from, to] = round % 2 === 0 ? [root, branch] : [branch, root];
      const before = producer.committed.length;
      await waitFor(
        'events before the next round',
        async () => producer.committed.length >= before + step,
        waitSeconds,
      );
      await withSession(to, queue, (session) => takeover(session, { oldNode: from.name }));
    }

    const afterSecond = producer.committed.length;
    await waitFor(
      'events after switching back',
      async () => producer.committed.length >= afterSecond + step,
      waitSeconds,
    );
    await producer.stop();
    expect(producer.failures).toEqual([]);
    const expected = producer.committed.map(String);
    await waitFor(
      'the leaf consumer to see every event',
      async () => audit.seen.length >= expected.length,
      waitSeconds * 2,
    );
    await waitFor(
      'the branch to copy every event',
      async () => (await queueData(branch, queue)).length >= expected.length,
      waitSeconds,
    );
    // The producer ran into the demoted root's refusal and went on on the new one.
    expect(producer.refused.count).toBeGreaterThan(0);
    expect(audit.seen.map((s) => s.data)).toEqual(expected);
    expect(await queueData(root, queue)).toEqual(expected);
    expect(await queueData(branch, queue)).toEqual(expected);
    // Batches come in tick order; inside each, events in the order they were produced.
    const ticks = audit.seen.map((s) => BigInt(s.tick));
    expect(ticks).toEqual([...ticks].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
  });
});
