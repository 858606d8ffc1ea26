/**
 * Failover onto a branch that is behind another branch: the new root must first catch up
 * from the branch that copied furthest, so nothing any node had is lost. The root is
 * declared dead for the run (`--dead root`), which is how an operator fails over from a
 * root that answers no more than a hanging host; its server keeps running here, and must
 * not be touched.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { setPaused } from '../../src/cascade/admin/pause.js';
import { takeover } from '../../src/cascade/admin/takeover.js';
import { useTestDatabase } from '../harness/database.js';
import type { Node } from '../pgq_node/node-helpers.js';
import {
  createRoot,
  createSubscriber,
  fastTicks,
  insertEvents,
  labels,
  nodeState,
  produceTicked,
  queueData,
  queueTop,
  reachTick,
  sharedNodes,
  startTicker,
  startWorker,
  useRunners,
  waitFor,
  withSession,
  workerTick,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'furthest';
let root: Node;
let ahead: Node;
let behind: Node;
let leaf: Node;
const runners = useRunners();

beforeAll(async () => {
  [root, ahead, behind, leaf] = await sharedNodes(test, 'root', 'ahead', 'behind', 'leaf');
  await createRoot(root, queue, 'root_w');
  await createSubscriber(ahead, root, queue, 'branch', { worker: 'ahead_w' });
  await createSubscriber(behind, root, queue, 'branch', { worker: 'behind_w' });
  await createSubscriber(leaf, root, queue, 'leaf', { worker: 'leaf_w', root });
  for (const node of [root, ahead, behind]) await fastTicks(node, queue);
});

const reach = (node: Node, tick: bigint) => reachTick(node, queue, tick);
const produce = (values: string[]) => produceTicked(root, queue, values);

describe('failover when another branch got further', () => {
  it('catches up from the furthest branch first, then promotes and moves the others', async () => {
    const rootWorker = startWorker(root, queue);
    const workers = [ahead, behind, leaf].map((node) => startWorker(node, queue));
    runners.push(...workers);
    const rootTicker = startTicker([root], queue);
    runners.push(startTicker([ahead, behind], queue));
    const first = labels('first', 30);
    const second = labels('second', 20);

    let top = await produce(first);
    for (const node of [ahead, behind, leaf]) await reach(node, top);
    // `behind` stops reading; `ahead` and the leaf get the second part.
    await withSession(behind, queue, (session) => setPaused(session, { node: 'behind' }, true));
    const behindAt = await workerTick(behind, queue);
    top = await produce(second);
    await reach(ahead, top);
    await reach(leaf, top);
    expect(await workerTick(behind, queue)).toBe(behindAt);
    await rootWorker.stop();
    await rootTicker.stop();
    top = await queueTop(root, queue);
    await reach(ahead, top);

    const out = await withSession(
      behind,
      queue,
      async (session, captured) => {
        await takeover(session, { oldNode: 'root', deadRoot: true });
        return captured;
      },
      { dead: ['root'] },
    );
    const info = out.info.join('\n');
    expect(info).toMatch(/ahead is further than behind/);
    expect(info).toMatch(/step \d+\/\d+: move behind under ahead, which is further/);
    expect(info).toMatch(/failover root -> behind: done/);

    const state = (node: Node) => nodeState(node, queue);
    expect(await state(behind)).toEqual({ node_type: 'root', provider_node: 'behind' });
    expect(await state(ahead)).toEqual({ node_type: 'branch', provider_node: 'behind' });
    expect(await state(leaf)).toEqual({ node_type: 'leaf', provider_node: 'behind' });
    // The gravestone sits where the furthest node was: nothing that reached a node is lost.
    const { rows } = await behind.db.query(
      `select last_tick::text as t from pgq.get_consumer_info($1, 'root.gravestone')`,
      [queue],
    );
    expect(rows[0]?.t).toBe(String(top));
    // behind no longer reads from ahead.
    const subs = await ahead.db.query('select node_name from pgq_node.get_subscriber_info($1)', [
      queue,
    ]);
    expect(subs.rows).toEqual([]);
    // The root declared dead was not touched: still a root taking writes, nobody tagged dead.
    expect(await state(root)).toEqual({ node_type: 'root', provider_node: 'root' });
    const { rows: flags } = await root.db.query(
      `select queue_disable_insert, queue_external_ticker from pgq.queue where queue_name = $1`,
      [queue],
    );
    expect(flags[0]).toEqual({ queue_disable_insert: false, queue_external_ticker: false });
    const { rows: dead } = await root.db.query(
      'select node_name from pgq_node.get_queue_locations($1) where dead',
      [queue],
    );
    expect(dead).toEqual([]);

    await insertEvents(behind, queue, ['after']);
    const newTop = await queueTop(behind, queue);
    await waitFor('a tick on the new root', async () => (await queueTop(behind, queue)) > newTop);
    await reach(ahead, await queueTop(behind, queue));
    expect(await queueData(behind, queue)).toEqual([...first, ...second, 'after']);
    expect(await queueData(ahead, queue)).toEqual([...first, ...second, 'after']);
  });
});
