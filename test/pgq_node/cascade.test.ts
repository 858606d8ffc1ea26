/**
 * Three nodes (three databases) driven through the SQL calls of the admin tool and the
 * cascaded worker: the functions of pgq_node end to end, without the Node worker itself.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  createRoot,
  createSubscriber,
  type Node,
  nodeDatabase,
  one,
  produceAndTick,
  ret,
  workerStep,
} from './node-helpers.js';

const test = useTestDatabase();
const queue = 'cq';
let root: Node;
let branch: Node;
let leaf: Node;
/** Data events the leaf's worker has applied, in order. */
const applied: string[] = [];

beforeAll(async () => {
  root = await nodeDatabase(test, 'root');
  branch = await nodeDatabase(test, 'branch', 'branch');
  leaf = await nodeDatabase(test, 'leaf', 'leaf');
  await createRoot(root, queue);
  await createSubscriber(branch, root, queue, 'branch');
  await createSubscriber(leaf, branch, queue, 'leaf', { root });
});

async function step(node: Node, provider: Node) {
  const events = await workerStep(node, provider, queue);
  if (events && node === leaf) {
    applied.push(...events.filter((e) => e.ev_type === 'data').map((e) => e.ev_data));
  }
  return events;
}

async function providerOf(node: Node): Promise<Node> {
  const state = await one(node.db, 'select * from pgq_node.get_worker_state($1)', [queue]);
  const byName: Record<string, Node> = { root, branch, leaf };
  const provider = byName[state.provider_node];
  if (!provider) throw new Error(`unknown provider ${state.provider_node}`);
  return provider;
}

/** Every non-root node's worker, until none has a batch left. */
async function drain(nodes: Node[]) {
  for (let busy = true; busy; ) {
    busy = false;
    for (const node of nodes) {
      if (await step(node, await providerOf(node))) busy = true;
    }
  }
}

async function ticks(node: Node) {
  const { rows } = await node.db.query(
    `select t.tick_id, t.tick_event_seq from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
      where q.queue_name = $1 and t.tick_id > 1 order by t.tick_id`,
    [queue],
  );
  return rows;
}

async function events(node: Node) {
  const { rows } = await node.db.query(
    // One queue per node database: every event there is this queue's.
    'select ev_id, ev_time, ev_type, ev_data, ev_extra1 from pgq.event_template order by ev_id',
  );
  return rows;
}

/** Every batch of the queue from tick 1 on, as [end tick, event ids], read by a probe consumer. */
async function batches(node: Node) {
  const result: [string, string[]][] = [];
  await node.db.query(`select pgq.register_consumer_at($1, 'probe', 1)`, [queue]);
  try {
    for (;;) {
      const batch = await one(node.db, `select * from pgq.next_batch_info($1, 'probe')`, [queue]);
      if (batch.batch_id === null) return result;
      const { rows } = await node.db.query(
        'select ev_id from pgq.get_batch_events($1) order by ev_id',
        [batch.batch_id],
      );
      result.push([batch.cur_tick_id, rows.map((r) => r.ev_id)]);
      await node.db.query('select pgq.finish_batch($1)', [batch.batch_id]);
    }
  } finally {
    await node.db.query(`select pgq.unregister_consumer($1, 'probe')`, [queue]);
  }
}

describe('pgq_node cascade root → branch → leaf', () => {
  it('the branch holds the root events with the same ids and the same ticks; the leaf gets each once', async () => {
    const produced: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const data = Array.from({ length: 20 }, (_, i) => `e${batch}-${i}`);
      produced.push(...data);
      await produceAndTick(root, queue, data);
    }
    await drain([branch, leaf]);
    expect(await events(branch)).toEqual(await events(root));
    expect(await ticks(branch)).toEqual(await ticks(root));
    const rootBatches = await batches(root);
    expect(rootBatches.filter(([, ids]) => ids.length >= 20)).toHaveLength(5);
    expect(await batches(branch)).toEqual(rootBatches);
    expect(applied).toEqual(produced);
    const top = (await one(root.db, 'select last_tick_id from pgq.get_queue_info($1)', [queue]))
      .last_tick_id;
    for (const node of [branch, leaf]) {
      expect(
        (await one(node.db, 'select * from pgq_node.get_node_info($1)', [queue])).worker_last_tick,
      ).toBe(top);
    }
  });

  it('change-provider: the leaf moves from the branch to the root without loss or repeats', async () => {
    await produceAndTick(root, queue, ['before-move']);
    await step(branch, root);
    // pause leaf; register on the new provider at its own position; switch; resume; unregister.
    await leaf.db.query('select * from pgq_node.set_consumer_paused($1, $2, true)', [
      queue,
      'leaf_worker',
    ]);
    const position = (await one(leaf.db, 'select * from pgq_node.get_worker_state($1)', [queue]))
      .completed_tick;
    expect(
      await one(root.db, 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [
        queue,
        'leaf',
        'leaf_worker',
        position,
      ]),
    ).toMatchObject({ ret_code: 200 });
    expect(
      await ret(leaf.db, 'select * from pgq_node.change_consumer_provider($1, $2, $3)', [
        queue,
        'leaf_worker',
        'root',
      ]),
    ).toEqual({ ret_code: 200, ret_note: 'Consumer provider node set to : root' });
    await leaf.db.query('select * from pgq_node.set_consumer_paused($1, $2, false)', [
      queue,
      'leaf_worker',
    ]);
    expect(
      await ret(branch.db, 'select * from pgq_node.unregister_subscriber($1, $2)', [queue, 'leaf']),
    ).toMatchObject({
      ret_code: 200,
    });
    await produceAndTick(root, queue, ['after-move']);
    await drain([branch, leaf]);
    expect(applied.slice(-2)).toEqual(['before-move', 'after-move']);
    expect(new Set(applied).size).toBe(applied.length);
  });

  it('switchover: the branch becomes root, the old root a branch under it, events keep flowing', async () => {
    await produceAndTick(root, queue, ['last-on-old-root']);
    await drain([branch, leaf]);
    // pause the old root's worker; demote steps 1 and 2; the new root catches up to the last tick.
    await root.db.query('select * from pgq_node.set_consumer_paused($1, $2, true)', [
      queue,
      'root_worker',
    ]);
    await root.db.query('select * from pgq_node.demote_root($1, 1, null)', [queue]);
    const { last_tick: lastTick } = await one(
      root.db,
      'select * from pgq_node.demote_root($1, 2, null)',
      [queue],
    );
    await drain([branch]);
    expect(
      (await one(branch.db, 'select * from pgq_node.get_worker_state($1)', [queue])).completed_tick,
    ).toBe(lastTick);

    expect(
      await ret(branch.db, 'select * from pgq_node.promote_branch($1)', [queue]),
    ).toMatchObject({ ret_code: 200 });
    expect(
      await one(branch.db, 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [
        queue,
        'root',
        'root_worker',
        lastTick,
      ]),
    ).toMatchObject({ ret_code: 200 });
    expect(
      await ret(root.db, 'select * from pgq_node.unregister_subscriber($1, $2)', [queue, 'branch']),
    ).toMatchObject({
      ret_code: 200,
    });
    expect(
      await one(root.db, 'select * from pgq_node.demote_root($1, 3, $2)', [queue, 'branch']),
    ).toMatchObject({
      ret_code: 200,
    });
    await root.db.query('select * from pgq_node.set_consumer_paused($1, $2, false)', [
      queue,
      'root_worker',
    ]);
    // The leaf still reads the old root, now a branch: it keeps going through it.

    const newRoot = branch;
    const produced = Array.from({ length: 10 }, (_, i) => `new-${i}`);
    const firstNewTick = await produceAndTick(newRoot, queue, produced);
    expect(Number(firstNewTick)).toBe(Number(lastTick) + 1);
    await drain([root, leaf]);
    expect(await events(root)).toEqual(await events(newRoot));
    expect(await ticks(root)).toEqual(await ticks(newRoot));
    expect(await batches(root)).toEqual(await batches(newRoot));
    expect(applied.slice(-11)).toEqual(['last-on-old-root', ...produced]);
    expect(new Set(applied).size).toBe(applied.length);
    expect(
      (await one(root.db, 'select * from pgq_node.get_node_info($1)', [queue])).node_type,
    ).toBe('branch');
    expect(
      (await one(newRoot.db, 'select * from pgq_node.get_node_info($1)', [queue])).node_type,
    ).toBe('root');
  });
});
