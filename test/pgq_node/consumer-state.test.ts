import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { createRoot, createSubscriber, type Node, nodeDatabase, one, ret } from './node-helpers.js';

const test = useTestDatabase();
const queue = 'csq';
let root: Node;
let leaf: Node;

beforeAll(async () => {
  root = await nodeDatabase(test, 'root');
  leaf = await nodeDatabase(test, 'leaf', 'leaf');
  await createRoot(root, queue);
  await createSubscriber(leaf, root, queue, 'leaf');
});

async function state(consumer: string) {
  return one(leaf.db, 'select * from pgq_node.get_consumer_state($1, $2)', [queue, consumer]);
}

describe('pgq_node cascaded consumer state', () => {
  it('register_consumer: 200, then 201 moving provider and position; 404 for an unknown queue', async () => {
    const sql = 'select * from pgq_node.register_consumer($1, $2, $3, $4)';
    expect(await ret(leaf.db, sql, [queue, 'c1', 'root', 1])).toEqual({
      ret_code: 200,
      ret_note: `Consumer c1 registered on queue ${queue}`,
    });
    expect(await ret(leaf.db, sql, [queue, 'c1', 'leaf', 5])).toEqual({
      ret_code: 201,
      ret_note: `Consumer already registered: ${queue}/c1`,
    });
    expect(await state('c1')).toMatchObject({ provider_node: 'leaf', completed_tick: '5' });
    // As upstream, a NULL position is refused by the NOT NULL column, changing nothing.
    await expect(leaf.db.query(sql, [queue, 'c1', 'root', null])).rejects.toMatchObject({
      code: '23502',
    });
    expect(await state('c1')).toMatchObject({ provider_node: 'leaf', completed_tick: '5' });
    await leaf.db.query(sql, [queue, 'c1', 'root', 5]);
    expect(await state('c1')).toMatchObject({ provider_node: 'root', completed_tick: '5' });
    expect(await ret(leaf.db, sql, ['nope', 'c1', 'root', 1])).toEqual({
      ret_code: 404,
      ret_note: 'Unknown queue: nope',
    });
  });

  it('get_consumer_state: 100 with node and provider; 404 per missing piece', async () => {
    expect(await state('c1')).toEqual({
      ret_code: 100,
      ret_note: 'Ok',
      node_type: 'leaf',
      node_name: 'leaf',
      completed_tick: '5',
      provider_node: 'root',
      provider_location: root.location,
      paused: false,
      uptodate: false,
      cur_error: null,
    });
    expect(await state('nobody')).toMatchObject({
      ret_code: 404,
      ret_note: `Unknown consumer: ${queue}/nobody`,
    });
    expect(
      await ret(leaf.db, 'select * from pgq_node.get_consumer_state($1, $2)', ['nope', 'c1']),
    ).toEqual({ ret_code: 404, ret_note: 'Unknown queue: nope' });
  });

  it('set_consumer_paused: 200 tagged, 201 already, 404 unknown; a change clears uptodate', async () => {
    const sql = 'select * from pgq_node.set_consumer_paused($1, $2, $3)';
    await leaf.db.query('select * from pgq_node.set_consumer_uptodate($1, $2, true)', [
      queue,
      'c1',
    ]);
    expect(await ret(leaf.db, sql, [queue, 'c1', true])).toEqual({
      ret_code: 200,
      ret_note: 'Consumer c1 tagged as paused',
    });
    expect(await state('c1')).toMatchObject({ paused: true, uptodate: false });
    expect(await ret(leaf.db, sql, [queue, 'c1', true])).toEqual({
      ret_code: 201,
      ret_note: 'Consumer c1 already paused',
    });
    expect(await ret(leaf.db, sql, [queue, 'c1', false])).toEqual({
      ret_code: 200,
      ret_note: 'Consumer c1 tagged as resumed',
    });
    expect(await ret(leaf.db, sql, [queue, 'c1', false])).toEqual({
      ret_code: 201,
      ret_note: 'Consumer c1 already resumed',
    });
    expect(await ret(leaf.db, sql, [queue, 'zz', true])).toEqual({
      ret_code: 404,
      ret_note: 'Unknown consumer: zz',
    });
  });

  it('set_consumer_uptodate: 200 with 1 or 0; 404 unknown', async () => {
    const sql = 'select * from pgq_node.set_consumer_uptodate($1, $2, $3)';
    expect(await ret(leaf.db, sql, [queue, 'c1', true])).toEqual({
      ret_code: 200,
      ret_note: 'Consumer uptodate = 1',
    });
    expect(await state('c1')).toMatchObject({ uptodate: true });
    expect(await ret(leaf.db, sql, [queue, 'c1', false])).toEqual({
      ret_code: 200,
      ret_note: 'Consumer uptodate = 0',
    });
    expect(await ret(leaf.db, sql, [queue, 'zz', true])).toEqual({
      ret_code: 404,
      ret_note: `Consumer not known: ${queue}/zz`,
    });
  });

  it('set_consumer_error then set_consumer_completed, which clears the error', async () => {
    expect(
      await ret(leaf.db, 'select * from pgq_node.set_consumer_error($1, $2, $3)', [
        queue,
        'c1',
        'boom',
      ]),
    ).toEqual({ ret_code: 100, ret_note: 'Consumer c1 error = boom' });
    expect(await state('c1')).toMatchObject({ cur_error: 'boom' });
    expect(
      await ret(leaf.db, 'select * from pgq_node.set_consumer_completed($1, $2, $3)', [
        queue,
        'c1',
        9,
      ]),
    ).toEqual({ ret_code: 100, ret_note: 'Consumer c1 completed tick = 9' });
    expect(await state('c1')).toMatchObject({ cur_error: null, completed_tick: '9' });
    expect(
      await ret(leaf.db, 'select * from pgq_node.set_consumer_completed($1, $2, $3)', [
        queue,
        'zz',
        9,
      ]),
    ).toEqual({ ret_code: 404, ret_note: `Consumer not known: ${queue}/zz` });
    expect(
      await ret(leaf.db, 'select * from pgq_node.set_consumer_error($1, $2, $3)', [
        queue,
        'zz',
        'x',
      ]),
    ).toEqual({ ret_code: 101, ret_note: `Consumer not known, ignoring: ${queue}/zz` });
  });

  it('change_consumer_provider: 200 and not up to date; 404 for unknown node or consumer', async () => {
    const sql = 'select * from pgq_node.change_consumer_provider($1, $2, $3)';
    await leaf.db.query('select * from pgq_node.set_consumer_uptodate($1, $2, true)', [
      queue,
      'c1',
    ]);
    expect(await ret(leaf.db, sql, [queue, 'c1', 'leaf'])).toEqual({
      ret_code: 200,
      ret_note: 'Consumer provider node set to : leaf',
    });
    expect(await state('c1')).toMatchObject({
      provider_node: 'leaf',
      uptodate: false,
      completed_tick: '9',
    });
    expect(await ret(leaf.db, sql, [queue, 'c1', 'mars'])).toEqual({
      ret_code: 404,
      ret_note: 'New node not found: mars',
    });
    expect(await ret(leaf.db, sql, [queue, 'zz', 'root'])).toEqual({
      ret_code: 404,
      ret_note: `Unknown consumer: ${queue}/zz`,
    });
    expect(await state('c1')).toMatchObject({ provider_node: 'leaf' });
  });

  it('get_consumer_info lists the worker and the consumer in name order', async () => {
    const { rows } = await leaf.db.query(
      'select consumer_name, provider_node from pgq_node.get_consumer_info($1)',
      [queue],
    );
    expect(rows).toEqual([
      { consumer_name: 'c1', provider_node: 'leaf' },
      { consumer_name: 'leaf_worker', provider_node: 'root' },
    ]);
  });

  it('unregister_consumer: 200, again 200 (as upstream); unknown queue 404', async () => {
    const sql = 'select * from pgq_node.unregister_consumer($1, $2)';
    expect(await ret(leaf.db, sql, [queue, 'c1'])).toEqual({
      ret_code: 200,
      ret_note: `Consumer c1 unregistered from ${queue}`,
    });
    expect(await ret(leaf.db, sql, [queue, 'c1'])).toEqual({
      ret_code: 200,
      ret_note: `Consumer c1 unregistered from ${queue}`,
    });
    expect(await ret(leaf.db, sql, ['nope', 'c1'])).toEqual({
      ret_code: 404,
      ret_note: 'Unknown queue: nope',
    });
  });

  it('get_worker_state names a missing worker row and a missing provider location', async () => {
    const sql = 'select * from pgq_node.get_worker_state($1)';
    expect(await one(leaf.db, sql, [queue])).toMatchObject({
      ret_code: 100,
      node_type: 'leaf',
      worker_name: 'leaf_worker',
      provider_node: 'root',
      provider_location: root.location,
      global_watermark: null,
      local_queue_top: null,
    });
    expect(await one(leaf.db, sql, ['nope'])).toMatchObject({
      ret_code: 404,
      ret_note: 'Unknown queue: nope',
    });
    await leaf.db.query('begin');
    try {
      // The provider's location row can only go away with the FK out of the way.
      await leaf.db.query(
        'alter table pgq_node.local_state drop constraint local_state_queue_name_provider_node_fkey',
      );
      await leaf.db.query(`delete from pgq_node.node_location where node_name = 'root'`);
      expect(await one(leaf.db, sql, [queue])).toMatchObject({
        ret_code: 404,
        ret_note: `Unknown provider node: ${queue}/root`,
      });
      await leaf.db.query(`delete from pgq_node.local_state`);
      expect(await one(leaf.db, sql, [queue])).toMatchObject({
        ret_code: 404,
        ret_note: `Unknown consumer: ${queue}/leaf_worker`,
      });
    } finally {
      await leaf.db.query('rollback');
    }
  });
});
