import { beforeAll, describe, expect, it } from 'vitest';
import { expectPgError } from '../harness/assertions.js';
import { useTestDatabase } from '../harness/database.js';
import {
  createRoot,
  createSubscriber,
  type Node,
  nodeDatabase,
  one,
  produceAndTick,
  ret,
} from './node-helpers.js';

const test = useTestDatabase();
const queue = 'subq';
let root: Node;

beforeAll(async () => {
  root = await nodeDatabase(test, 'root');
  await createRoot(root, queue);
  for (const name of ['b1', 'b2', 'leaf']) {
    await root.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      name,
      `dbname=${name}`,
    ]);
  }
});

async function pgqConsumers() {
  const { rows } = await root.db.query(
    'select consumer_name, last_tick from pgq.get_consumer_info($1) order by 1',
    [queue],
  );
  return Object.fromEntries(rows.map((r) => [r.consumer_name, r.last_tick]));
}

const register = 'select * from pgq_node.register_subscriber($1, $2, $3, $4)';
const setWatermark = 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)';

describe('pgq_node subscribers', () => {
  it('register_subscriber returns the global watermark and creates .node.watermark and the worker', async () => {
    await produceAndTick(root, queue, ['a']);
    expect(await one(root.db, register, [queue, 'b1', 'b1_worker', null])).toEqual({
      ret_code: 200,
      ret_note: 'Subscriber registered: b1',
      global_watermark: '1',
    });
    expect(await pgqConsumers()).toEqual({
      '.b1.watermark': '1',
      '.global_watermark': '1',
      b1_worker: '1',
    });
    expect(
      (await root.db.query('select * from pgq_node.get_subscriber_info($1)', [queue])).rows,
    ).toEqual([{ node_name: 'b1', worker_name: 'b1_worker', node_watermark: '1' }]);
  });

  it('a custom tick places only the worker; a second subscriber lists in name order', async () => {
    const tick = await produceAndTick(root, queue, ['b']);
    await root.db.query(register, [queue, 'b2', 'b2_worker', tick]);
    expect(await pgqConsumers()).toMatchObject({ '.b2.watermark': '1', b2_worker: tick });
    const { rows } = await root.db.query('select node_name from pgq_node.get_subscriber_info($1)', [
      queue,
    ]);
    expect(rows.map((r) => r.node_name)).toEqual(['b1', 'b2']);
  });

  it('refuses an unknown queue, a leaf provider and a node that is not a member', async () => {
    expect(await one(root.db, register, ['nope', 'b1', 'w', null])).toEqual({
      ret_code: 404,
      ret_note: 'Unknown queue: nope',
      global_watermark: null,
    });
    const leaf = await nodeDatabase(test, 'leaf', 'leaf');
    await createSubscriber(leaf, root, queue, 'leaf');
    await leaf.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
      queue,
      'x',
      'dbname=x',
    ]);
    expect(await one(leaf.db, register, [queue, 'x', 'x_worker', null])).toEqual({
      ret_code: 401,
      ret_note: 'Cannot subscribe to leaf node',
      global_watermark: null,
    });
    const before = await pgqConsumers();
    await expect(
      root.db.query(register, [queue, 'stranger', 'stranger_worker', null]),
    ).rejects.toMatchObject({
      code: '23503',
      message: expect.stringContaining('"subscriber_info"'),
    });
    expect(await pgqConsumers()).toEqual(before);
  });

  it('set_subscriber_watermark: forward 200, equal 100, backwards 405, unknown node 404', async () => {
    const tick = await produceAndTick(root, queue, ['c']);
    expect(await ret(root.db, setWatermark, [queue, 'b1', tick])).toEqual({
      ret_code: 200,
      ret_note: `.b1.watermark set to ${tick}`,
    });
    expect(await ret(root.db, setWatermark, [queue, 'b1', tick])).toEqual({
      ret_code: 100,
      ret_note: 'watermark already set',
    });
    expect(await ret(root.db, setWatermark, [queue, 'b1', 1])).toEqual({
      ret_code: 405,
      ret_note: 'watermark must not be moved backwards',
    });
    expect(await ret(root.db, setWatermark, [queue, 'zz', tick])).toEqual({
      ret_code: 404,
      ret_note: 'node zz not subscribed to queue ',
    });
    expect((await pgqConsumers())['.b1.watermark']).toBe(tick);
    await expectPgError(
      root.db.query(setWatermark, [queue, 'b1', 999999]),
      'cannot reposition, tick not found: 999999',
    );
    // As upstream: a NULL watermark moves nothing and says 200 with a NULL note.
    expect(await ret(root.db, setWatermark, [queue, 'b1', null])).toEqual({
      ret_code: 200,
      ret_note: null,
    });
    expect((await pgqConsumers())['.b1.watermark']).toBe(tick);
  });

  it('the root local watermark follows the lowest subscriber position', async () => {
    const info = await one(root.db, 'select * from pgq_node.get_node_info($1)', [queue]);
    const positions = Object.entries(await pgqConsumers())
      .filter(([name]) => name !== '.global_watermark')
      .map(([, tick]) => Number(tick));
    expect(Number(info.local_watermark)).toBe(Math.min(...positions));
  });

  it('two workers reporting the same subscriber at once never move it backwards', async () => {
    const ticks: string[] = [];
    for (let i = 0; i < 6; i++) ticks.push(await produceAndTick(root, queue, [`w${i}`]));
    const a = await test.connect({ database: test.name });
    const b = await test.connect({ database: test.name });
    // a holds the row, b's report for an older tick waits behind it and then sees the newer one.
    await a.query('begin');
    expect(await ret(a, setWatermark, [queue, 'b2', ticks[5]])).toMatchObject({ ret_code: 200 });
    const late = ret(b, setWatermark, [queue, 'b2', ticks[2]]);
    await expect
      .poll(async () => {
        const { rows } = await root.db.query(
          `select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'`,
          [test.name],
        );
        return rows[0].n;
      })
      .toBe(1);
    await a.query('commit');
    expect(await late).toEqual({
      ret_code: 405,
      ret_note: 'watermark must not be moved backwards',
    });
    // And many concurrent reports in random order end at the highest one.
    const order = [...ticks].sort(() => Math.random() - 0.5);
    const pool = test.pool({ max: order.length });
    await Promise.all(
      order.map(async (tick) => {
        const client = await pool.connect();
        try {
          return await ret(client, setWatermark, [queue, 'b1', tick]);
        } finally {
          client.release();
        }
      }),
    );
    expect((await pgqConsumers())['.b1.watermark']).toBe(ticks[5]);
  });

  it('unregister_subscriber removes both consumers; a second time 304', async () => {
    expect(
      await ret(root.db, 'select * from pgq_node.unregister_subscriber($1, $2)', [queue, 'b2']),
    ).toEqual({
      ret_code: 200,
      ret_note: 'Subscriber unregistered: b2',
    });
    const consumers = await pgqConsumers();
    expect(consumers['.b2.watermark']).toBeUndefined();
    expect(consumers.b2_worker).toBeUndefined();
    expect(
      await ret(root.db, 'select * from pgq_node.unregister_subscriber($1, $2)', [queue, 'b2']),
    ).toEqual({
      ret_code: 304,
      ret_note: 'Subscriber not found',
    });
  });
});
