/**
 * The cascade's own events through the Node worker, loop by loop (runOnce): member
 * locations registered and dropped on the root reach branch and leaf; the root worker's
 * global watermark is applied on the branch; local watermarks are reported up; events that
 * break the cascade's rules stop the worker with the upstream texts, stored in cur_error.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { CascadedWorker } from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  createChain,
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
// A hostile queue name: quotes, a dot, a space and unicode.
const queue = 'Ev "q".ü x';
let root: TestNode;
let branch: TestNode;
let leaf: TestNode;
const { made: workers, worker: loopWorker } = useLoopWorkers();
const worker = (node: TestNode, name = queue) => loopWorker(node, name);

beforeAll(async () => {
  [root, branch, leaf] = await sharedNodes(test, 'root', 'branch', 'leaf');
  await createChain(queue, [root, branch, leaf], 'leaf');
});

async function locations(node: TestNode) {
  const { rows } = await node.db.query(
    'select node_name, node_location, dead from pgq_node.get_queue_locations($1) order by 1',
    [queue],
  );
  return rows;
}

describe('cascade events through the Node worker', () => {
  const rootWorker = () => workers[0] as CascadedWorker;
  const branchWorker = () => workers[1] as CascadedWorker;
  const leafWorker = () => workers[2] as CascadedWorker;

  it('a location registered, tagged dead and dropped on the root reaches branch and leaf', async () => {
    worker(root);
    worker(branch);
    worker(leaf);
    await root.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'n4',
      'dbname=n4 host=elsewhere',
    ]);
    await tickRoot(root.db, queue);
    await drain(branchWorker(), leafWorker());
    const expected = await locations(root);
    expect(expected.map((l) => l.node_name)).toEqual(['branch', 'leaf', 'n4', 'root']);
    expect(await locations(branch)).toEqual(expected);
    expect(await locations(leaf)).toEqual(expected);

    await root.db.query('select * from pgq_node.register_location($1, $2, null, true)', [
      queue,
      'n4',
    ]);
    await tickRoot(root.db, queue);
    await drain(branchWorker(), leafWorker());
    expect((await locations(leaf)).find((l) => l.node_name === 'n4')).toEqual({
      node_name: 'n4',
      node_location: 'dbname=n4 host=elsewhere',
      dead: true,
    });

    await root.db.query('select * from pgq_node.unregister_location($1, $2)', [queue, 'n4']);
    await tickRoot(root.db, queue);
    await drain(branchWorker(), leafWorker());
    expect((await locations(branch)).map((l) => l.node_name)).toEqual(['branch', 'leaf', 'root']);
    expect((await locations(leaf)).map((l) => l.node_name)).toEqual(['branch', 'leaf', 'root']);
  });

  it('local watermarks go up to the root, whose global watermark comes down to the branch', async () => {
    for (let i = 0; i < 3; i++) {
      await root.db.query(`select pgq.insert_event($1, 'data', $2)`, [queue, `w${i}`]);
      await tickRoot(root.db, queue);
    }
    // Leaf reports to branch, branch to root, each loop (period 0).
    await drain(branchWorker(), leafWorker());
    await drain(branchWorker(), leafWorker());
    const leafDone = (await one(leaf.db, 'select * from pgq_node.get_worker_state($1)', [queue]))
      .completed_tick;
    const onBranch = await one(
      branch.db,
      `select node_watermark::text from pgq_node.get_subscriber_info($1) where node_name = 'leaf'`,
      [queue],
    );
    expect(onBranch.node_watermark).toBe(leafDone);
    const onRoot = await one(
      root.db,
      `select node_watermark::text from pgq_node.get_subscriber_info($1) where node_name = 'branch'`,
      [queue],
    );
    const branchInfo = await one(branch.db, 'select * from pgq_node.get_node_info($1)', [queue]);
    expect(onRoot.node_watermark).toBe(branchInfo.local_watermark);
    expect(Number(onRoot.node_watermark)).toBeGreaterThan(1);

    expect(await rootWorker().runOnce()).toBe(false);
    const published = await one(
      root.db,
      `select max(ev_data::int8)::text as wm from pgq.event_template where ev_type = 'pgq.global-watermark'`,
    );
    const rootInfo = await one(root.db, 'select * from pgq_node.get_node_info($1)', [queue]);
    expect(published.wm).toBe(rootInfo.global_watermark);
    expect(Number(published.wm)).toBeGreaterThan(1);
    await tickRoot(root.db, queue);
    await drain(branchWorker(), leafWorker());
    const after = await one(branch.db, 'select * from pgq_node.get_node_info($1)', [queue]);
    expect(after.global_watermark).toBe(published.wm);
  });

  it('unknown cascade events and events of another queue stop the worker with upstream texts', async () => {
    for (const [name, type, extra1, message] of [
      ['bogus', 'pgq.bogus', 'bogus', /^unknown cascade event: pgq\.bogus/],
      ['stray', 'pgq.location-info', 'elsewhere', /^bad event in queue: /],
    ] as const) {
      await createRoot(root, name);
      await createSubscriber(branch, root, name, 'branch');
      await root.db.query(`select pgq.insert_event($1, $2, 'n9', $3, null, null, null)`, [
        name,
        type,
        extra1,
      ]);
      await tickRoot(root.db, name);
      const w = worker(branch, name);
      const error = await w.runOnce().catch((e: unknown) => e);
      expect(error).toMatchObject({ message: expect.stringMatching(message) });
      const state = await one(branch.db, 'select * from pgq_node.get_worker_state($1)', [name]);
      expect(state.cur_error).toMatch(message);
      // Nothing of the batch was applied: the position and the locations are unchanged.
      expect(state.completed_tick).toBe('1');
      const { rows } = await branch.db.query(
        `select 1 from pgq_node.node_location where queue_name = $1 and node_name = 'n9'`,
        [name],
      );
      expect(rows).toEqual([]);
    }
  });
});
