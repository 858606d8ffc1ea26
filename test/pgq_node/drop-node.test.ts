import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createRoot, createSubscriber, type Node, nodeDatabase, one, ret } from './node-helpers.js';

const test = useTestDatabase();
const queue = 'dq';
let root: Node;
let branch: Node;
let leaf: Node;

beforeAll(async () => {
  root = await nodeDatabase(test, 'root');
  branch = await nodeDatabase(test, 'branch', 'branch');
  leaf = await nodeDatabase(test, 'leaf', 'leaf');
  await createRoot(root, queue);
  await createSubscriber(branch, root, queue, 'branch');
  await createSubscriber(leaf, branch, queue, 'leaf', { root });
});

const drop = 'select * from pgq_node.drop_node($1, $2)';

async function counts(node: Node) {
  return one(
    node.db,
    `select (select count(*)::int from pgq_node.node_location where queue_name = $1) as locations,
            (select count(*)::int from pgq_node.node_info where queue_name = $1) as info,
            (select count(*)::int from pgq_node.local_state where queue_name = $1) as state,
            (select count(*)::int from pgq_node.subscriber_info where queue_name = $1) as subscribers,
            (select count(*)::int from pgq.queue where queue_name = $1) as queues,
            (select count(*)::int from pgq.consumer) as consumer_names`,
    [queue],
  );
}

describe('pgq_node.drop_node', () => {
  it("refuses to drop the local worker's provider with 405, changing nothing", async () => {
    const before = await counts(branch);
    expect(await ret(branch.db, drop, [queue, 'root'])).toEqual({
      ret_code: 405,
      ret_note: 'Cannot drop provider node: root',
    });
    expect(await counts(branch)).toEqual(before);
  });

  it('on the provider, a subscriber node is unregistered with its consumers and location', async () => {
    expect(await ret(branch.db, drop, [queue, 'leaf'])).toEqual({
      ret_code: 200,
      ret_note: 'Node dropped: leaf',
    });
    expect(await counts(branch)).toMatchObject({ locations: 2, subscribers: 0, queues: 1 });
    const { rows } = await branch.db.query('select consumer_name from pgq.get_consumer_info($1)', [
      queue,
    ]);
    expect(rows.map((r) => r.consumer_name)).toEqual(['.global_watermark']);
  });

  it('the local node: queue, consumers, node rows and every location go', async () => {
    expect(await ret(leaf.db, drop, [queue, 'leaf'])).toEqual({
      ret_code: 200,
      ret_note: 'Node dropped: leaf',
    });
    expect(await counts(leaf)).toEqual({
      locations: 0,
      info: 0,
      state: 0,
      subscribers: 0,
      queues: 0,
      consumer_names: 0,
    });
    expect(await ret(branch.db, drop, [queue, 'branch'])).toEqual({
      ret_code: 200,
      ret_note: 'Node dropped: branch',
    });
    expect(await counts(branch)).toEqual({
      locations: 0,
      info: 0,
      state: 0,
      subscribers: 0,
      queues: 0,
      consumer_names: 0,
    });
  });

  it('on the root, dropping a subscriber announces its location removal', async () => {
    expect(await ret(root.db, drop, [queue, 'branch'])).toEqual({
      ret_code: 200,
      ret_note: 'Node dropped: branch',
    });
    const { rows } = await root.db.query(
      `select ev_data, ev_extra1 from pgq.event_template where ev_type = 'pgq.unregister-location'`,
    );
    expect(rows).toEqual([{ ev_data: 'branch', ev_extra1: queue }]);
    // The leaf's location stays: only the dropped node's goes.
    expect(await counts(root)).toMatchObject({ locations: 2, subscribers: 0 });
  });

  it('a queue this database is no node of: leftover locations are cleaned up', async () => {
    await root.db.query(
      `select * from pgq_node.register_location('stale', 'a', 'dbname=a', false)`,
    );
    await root.db.query(
      `select * from pgq_node.register_location('stale', 'b', 'dbname=b', false)`,
    );
    expect(await ret(root.db, drop, ['stale', 'a'])).toEqual({
      ret_code: 200,
      ret_note: 'Node dropped: a',
    });
    const { rows } = await root.db.query(`select * from pgq_node.get_queue_locations('stale')`);
    expect(rows).toEqual([]);
  });
});
