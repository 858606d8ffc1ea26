/**
 * Failover with the root's server stopped, then resurrect of the old root once it is back.
 * The root runs on a cluster of its own; a branch and a leaf (with a cascaded consumer) on
 * the run's cluster. Before the stop, the leaf is behind the branch and the branch behind
 * the root, so three kinds of events exist: seen by all, reached the branch only, committed
 * on the root only (lost). After `takeover --dead-root` on the branch and the leaf's move,
 * the consumer sees the first two kinds and what the new root takes afterwards, each exactly
 * once; resurrect dumps exactly the lost events to the file and deletes them.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeProvider } from '../../src/cascade/admin/change-provider.js';
import { setPaused } from '../../src/cascade/admin/pause.js';
import { resurrect } from '../../src/cascade/admin/resurrect.js';
import { takeover } from '../../src/cascade/admin/takeover.js';
import type { Cluster } from '../../src/pg/index.js';
import { useTestDatabase } from '../harness/database.js';
import type { Node } from '../pgq_node/node-helpers.js';
import {
  clusterNode,
  labels,
  produceTicked,
  queueData,
  queueTop,
  reachTick,
  reconnect,
  rootBranchLeaf,
  runAudit,
  sharedNodes,
  startAudit,
  startTicker,
  startWorker,
  useRestartableClusters,
  useRunners,
  waitFor,
  withSession,
} from './helpers.js';

const test = useTestDatabase();
const startCluster = useRestartableClusters();
const queue = 'failq';
let cluster: Cluster;
let root: Node;
let branch: Node;
let leaf: Node;
const runners = useRunners();
const dumpDir = mkdtempSync(path.join(tmpdir(), 'skytools-resurrect-'));

beforeAll(async () => {
  cluster = await startCluster();
  root = await clusterNode(cluster, 'old_root');
  [branch, leaf] = await sharedNodes(test, 'branch', 'leaf');
  await rootBranchLeaf(root, branch, leaf, queue);
});

afterAll(() => {
  rmSync(dumpDir, { recursive: true, force: true });
});

async function caughtUp(node: Node, source: Node) {
  await reachTick(node, queue, await queueTop(source, queue));
}

async function producedTick(node: Node, values: string[]) {
  await produceTicked(node, queue, values);
}

describe('failover from a stopped root, then resurrect', () => {
  it('promotes the branch, moves the leaf, loses nothing that reached the branch; resurrect dumps and removes the rest', async () => {
    const seenByAll = labels('all', 40);
    const branchOnly = labels('branch', 25);
    // More than one fetch of the dump's cursor.
    const lost = labels('lost', 1100);
    const afterwards = labels('new', 30);

    const rootWorker = startWorker(root, queue);
    let branchWorker = startWorker(branch, queue);
    let leafWorker = startWorker(leaf, queue);
    runners.push(startTicker([root, branch], queue));
    let audit = await startAudit(leaf, root, queue, 'audit');
    const seen: string[] = [];

    await producedTick(root, seenByAll);
    await caughtUp(branch, root);
    await caughtUp(leaf, root);
    await waitFor(
      'the consumer to see the first events',
      async () => audit.seen.length >= seenByAll.length,
    );
    await leafWorker.stop();
    await audit.stop();
    seen.push(...audit.seen.map((s) => s.data));

    await producedTick(root, branchOnly);
    await caughtUp(branch, root);
    await branchWorker.stop();
    await producedTick(root, lost.slice(0, 10));
    const before = await queueTop(root, queue);
    await root.db.query(
      `select pgq.insert_event($1, 'data', 'lost' || i) from generate_series(11, 1100) i`,
      [queue],
    );
    await waitFor('a tick after the bulk', async () => (await queueTop(root, queue)) > before + 1n);
    await rootWorker.stop();
    await cluster.stop({ mode: 'immediate' });

    branchWorker = startWorker(branch, queue);
    leafWorker = startWorker(leaf, queue);
    audit = runAudit(leaf, queue, 'audit');
    runners.push(branchWorker, leafWorker, audit);

    const failover = await withSession(branch, queue, async (session, captured) => {
      await takeover(session, { oldNode: 'old_root', deadRoot: true });
      // The consumer follows the leaf: an operator moves it with change-provider --consumer.
      return captured;
    });
    expect(failover.info.at(-1)).toMatch(/failover old_root -> branch: done/);
    expect(await nodeInfo(branch)).toMatchObject({ node_type: 'root', provider_node: 'branch' });
    expect(await nodeInfo(leaf)).toMatchObject({ node_type: 'leaf', provider_node: 'branch' });
    const { rows: dead } = await leaf.db.query(
      'select node_name from pgq_node.get_queue_locations($1) where dead',
      [queue],
    );
    expect(dead.map((r) => r.node_name)).toEqual(['old_root']);
    const gravestone = await consumerTick(branch, 'old_root.gravestone');
    expect(gravestone).not.toBeNull();

    await withSession(leaf, queue, (session) =>
      changeProvider(session, { node: 'leaf', consumer: 'audit', provider: 'branch' }),
    );
    await producedTick(branch, afterwards);
    const expected = [...seenByAll, ...branchOnly, ...afterwards];
    await waitFor(
      'the consumer to see every event that reached the branch',
      async () => seen.length + audit.seen.length >= expected.length,
    );
    await sleepABit();
    expect([...seen, ...audit.seen.map((s) => s.data)]).toEqual(expected);
    expect(await queueData(branch, queue)).toEqual(expected);

    // The old root comes back with its own history after the fork.
    await cluster.start();
    root = await reconnect(cluster, 'old_root');
    expect(await queueData(root, queue)).toEqual([...seenByAll, ...branchOnly, ...lost]);
    const dumpFile = path.join(dumpDir, 'lost.json');
    const dry = await withSession(
      root,
      queue,
      async (session, captured) => {
        await resurrect(session, { dumpFile });
        return captured.print.join('\n');
      },
      { dryRun: true },
    );
    expect(dry).toMatch(/\[dry-run\] on old_root: select \* from pgq_node\.demote_root/);
    expect(dry).toMatch(/would dump 11\d\d event\(s\) after tick \d+ to .*lost\.json/);
    expect(existsSync(dumpFile)).toBe(false);
    expect(await nodeInfo(root)).toMatchObject({ node_type: 'root' });
    expect(await queueData(root, queue)).toEqual([...seenByAll, ...branchOnly, ...lost]);
    expect(await consumerTick(branch, 'old_root.gravestone')).toBe(gravestone);

    const resurrected = await withSession(root, queue, async (session, captured) => {
      await resurrect(session, { dumpFile });
      return captured;
    });
    expect(resurrected.info.at(-1)).toMatch(/its worker is paused.*resume/);
    // Run again, it refuses to overwrite the dump.
    const again = await withSession(root, queue, (session) =>
      resurrect(session, { dumpFile }),
    ).catch((e: unknown) => e);
    expect((again as Error).message).toMatch(/dump file .*lost\.json exists.*nothing changed/);
    const dump = JSON.parse(readFileSync(dumpFile, 'utf8')) as Record<string, unknown>[];
    expect(dump.filter((e) => e.ev_type === 'data').map((e) => e.ev_data)).toEqual(lost);
    for (const event of dump) {
      expect(event).toHaveProperty('ev_id');
      expect(event).toHaveProperty('tick_id');
      if (event.tick_id !== null)
        expect(BigInt(event.tick_id as string)).toBeGreaterThan(BigInt(gravestone ?? 0));
    }
    expect(await queueData(root, queue)).toEqual([...seenByAll, ...branchOnly]);
    expect(await nodeInfo(root)).toMatchObject({
      node_type: 'branch',
      provider_node: 'branch',
      worker_paused: true,
      worker_last_tick: gravestone,
    });
    expect(await consumerTick(branch, 'old_root.gravestone')).toBeNull();
    expect(await consumerTick(branch, 'r_worker')).toBe(gravestone);
    const { rows: ticks } = await root.db.query(
      `select count(*)::int as n from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
        where q.queue_name = $1 and t.tick_id > $2`,
      [queue, gravestone],
    );
    expect(ticks[0].n).toBe(0);

    // Resumed, it copies the new root's history from the fork point.
    runners.push(startWorker(root, queue));
    await withSession(root, queue, (session) => setPaused(session, { node: 'old_root' }, false));
    await caughtUp(root, branch);
    expect(await queueData(root, queue)).toEqual(expected);
  });
});

async function nodeInfo(node: Node) {
  const { rows } = await node.db.query(
    `select node_type, provider_node, worker_paused, worker_last_tick::text
       from pgq_node.get_node_info($1)`,
    [queue],
  );
  return rows[0];
}

async function consumerTick(node: Node, consumer: string): Promise<string | null> {
  const { rows } = await node.db.query(
    'select last_tick::text as t from pgq.get_consumer_info($1, $2)',
    [queue, consumer],
  );
  return rows[0]?.t ?? null;
}

/** A duplicate would arrive after the last expected event: give it a moment to show. */
async function sleepABit() {
  await new Promise((resolve) => setTimeout(resolve, 500));
}
