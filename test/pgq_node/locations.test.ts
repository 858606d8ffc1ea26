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
const queue = 'locq';
let root: Node;
let branch: Node;

beforeAll(async () => {
  root = await nodeDatabase(test, 'root');
  branch = await nodeDatabase(test, 'branch', 'branch');
  await createRoot(root, queue);
  await createSubscriber(branch, root, queue, 'branch');
});

async function locations(node: Node, q = queue) {
  const { rows } = await node.db.query(
    'select * from pgq_node.get_queue_locations($1) order by node_name',
    [q],
  );
  return rows;
}

async function rootEvents(types: string[]) {
  const { rows } = await root.db.query(
    `select ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3
       from pgq.event_template
      where ev_type = any($1) order by ev_id`,
    [types],
  );
  return rows;
}

describe('pgq_node locations', () => {
  it('registers, updates and keeps a location on a node that is not the root', async () => {
    expect(
      await ret(
        branch.db,
        `select * from pgq_node.register_location('other', 'x', 'dbname=x', false)`,
      ),
    ).toEqual({ ret_code: 200, ret_note: 'Location registered' });
    await branch.db.query(
      `select * from pgq_node.register_location('other', 'x', 'host=h dbname=x', false)`,
    );
    // NULL location: the known one stays, only the dead flag changes.
    await branch.db.query(`select * from pgq_node.register_location('other', 'x', null, true)`);
    expect(await locations(branch, 'other')).toEqual([
      { node_name: 'x', node_location: 'host=h dbname=x', dead: true },
    ]);
    // An unknown node with a NULL location is not added.
    expect(
      await ret(branch.db, `select * from pgq_node.register_location('other', 'y', null, true)`),
    ).toEqual({ ret_code: 200, ret_note: 'Location registered' });
    expect(await locations(branch, 'other')).toHaveLength(1);
    // Only the root announces locations: the branch has no queue for 'other' at all.
    expect(
      await ret(branch.db, `select * from pgq_node.unregister_location('other', 'x')`),
    ).toEqual({ ret_code: 200, ret_note: 'Ok' });
    expect(await locations(branch, 'other')).toEqual([]);
  });

  it('lists every member on both nodes after create-branch', async () => {
    const expected = [
      { node_name: 'branch', node_location: branch.location, dead: false },
      { node_name: 'root', node_location: root.location, dead: false },
    ];
    expect(await locations(root)).toEqual(expected);
    expect(await locations(branch)).toEqual(expected);
  });

  it('on the root, sends pgq.location-info down the cascade, which the branch applies', async () => {
    await root.db.query(
      `select * from pgq_node.register_location($1, 'leaf9', 'dbname=leaf9', false)`,
      [queue],
    );
    await root.db.query(`select * from pgq_node.register_location($1, 'leaf9', null, true)`, [
      queue,
    ]);
    expect(await rootEvents(['pgq.location-info'])).toEqual([
      // create-branch registered the branch on the root: also announced.
      {
        ev_type: 'pgq.location-info',
        ev_data: 'branch',
        ev_extra1: queue,
        ev_extra2: branch.location,
        ev_extra3: 'false',
      },
      {
        ev_type: 'pgq.location-info',
        ev_data: 'leaf9',
        ev_extra1: queue,
        ev_extra2: 'dbname=leaf9',
        ev_extra3: 'false',
      },
      {
        ev_type: 'pgq.location-info',
        ev_data: 'leaf9',
        ev_extra1: queue,
        ev_extra2: null,
        ev_extra3: 'true',
      },
    ]);
    await produceAndTick(root, queue, []);
    while (await workerStep(branch, root, queue)) {}
    expect(await locations(branch)).toContainEqual({
      node_name: 'leaf9',
      node_location: 'dbname=leaf9',
      dead: true,
    });
  });

  it("refuses to drop the own location or the provider's", async () => {
    expect(
      await ret(root.db, 'select * from pgq_node.unregister_location($1, $2)', [queue, 'root']),
    ).toEqual({
      ret_code: 403,
      ret_note: "Cannot drop node's own location",
    });
    expect(
      await ret(branch.db, 'select * from pgq_node.unregister_location($1, $2)', [queue, 'root']),
    ).toEqual({
      ret_code: 403,
      ret_note: "Cannot drop location of node's parent",
    });
    expect(await locations(branch)).toHaveLength(3);
  });

  it('301 for an unknown location; unregistering a subscriber location unregisters the subscriber', async () => {
    expect(
      await ret(root.db, 'select * from pgq_node.unregister_location($1, $2)', [queue, 'nope']),
    ).toEqual({
      ret_code: 301,
      ret_note: `Location not found: ${queue}/nope`,
    });
    await createSubscriber(await nodeDatabase(test, 'sub2', 'sub2'), root, queue, 'leaf');
    expect((await one(root.db, 'select count(*)::int as n from pgq_node.subscriber_info')).n).toBe(
      2,
    );
    expect(
      await ret(root.db, 'select * from pgq_node.unregister_location($1, $2)', [queue, 'sub2']),
    ).toEqual({
      ret_code: 200,
      ret_note: 'Ok',
    });
    const { rows: consumers } = await root.db.query(
      'select consumer_name from pgq.get_consumer_info($1) order by 1',
      [queue],
    );
    expect(consumers.map((c) => c.consumer_name)).toEqual([
      '.branch.watermark',
      '.global_watermark',
      'branch_worker',
    ]);
    expect(await rootEvents(['pgq.unregister-location'])).toEqual([
      {
        ev_type: 'pgq.unregister-location',
        ev_data: 'sub2',
        ev_extra1: queue,
        ev_extra2: null,
        ev_extra3: null,
      },
    ]);
  });

  it('the branch applies pgq.unregister-location from the root', async () => {
    await root.db.query(`select * from pgq_node.unregister_location($1, 'leaf9')`, [queue]);
    await produceAndTick(root, queue, []);
    while (await workerStep(branch, root, queue)) {}
    expect((await locations(branch)).map((l) => l.node_name)).toEqual(['branch', 'root']);
  });
});
