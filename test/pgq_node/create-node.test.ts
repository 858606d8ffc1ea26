import { beforeAll, describe, expect, it } from 'vitest';
import { expectPgError } from '../harness/assertions.js';
import { useTestDatabase } from '../harness/database.js';
import { createRoot, type Node, nodeDatabase, one, ret } from './node-helpers.js';

const test = useTestDatabase();
let node: Node;

beforeAll(async () => {
  node = await nodeDatabase(test, 'n1');
});

const createNode = 'select * from pgq_node.create_node($1, $2, $3, $4, $5, $6, $7)';

async function register(queue: string, name: string) {
  await node.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
    queue,
    name,
    `dbname=${name}`,
  ]);
}

async function queueRow(queue: string) {
  const { rows } = await node.db.query(
    `select queue_external_ticker, queue_disable_insert,
            (select array_agg(tick_id order by tick_id) from pgq.tick where tick_queue = queue_id) as ticks
       from pgq.queue where queue_name = $1`,
    [queue],
  );
  return rows[0];
}

async function consumers(queue: string) {
  const { rows } = await node.db.query(
    'select consumer_name, last_tick from pgq.get_consumer_info($1) order by 1',
    [queue],
  );
  return rows;
}

async function localState(queue: string) {
  const { rows } = await node.db.query('select * from pgq_node.get_consumer_info($1)', [queue]);
  return rows;
}

describe('pgq_node.create_node', () => {
  it('root: creates the queue with internal ticker, .global_watermark and the worker at tick 1', async () => {
    await register('rq', 'n1');
    expect(await ret(node.db, createNode, ['rq', 'root', 'n1', 'w', null, null, null])).toEqual({
      ret_code: 200,
      ret_note: 'Node "n1" initialized for queue "rq" with type "root"',
    });
    expect(await queueRow('rq')).toEqual({
      queue_external_ticker: false,
      queue_disable_insert: false,
      ticks: ['1'],
    });
    expect(await consumers('rq')).toEqual([{ consumer_name: '.global_watermark', last_tick: '1' }]);
    expect(await localState('rq')).toEqual([
      {
        consumer_name: 'w',
        provider_node: 'n1',
        last_tick_id: '1',
        paused: false,
        uptodate: false,
        cur_error: null,
      },
    ]);
    expect(
      await one(
        node.db,
        `select pgq_node.is_root_node('rq') as r, pgq_node.is_leaf_node('rq') as l`,
      ),
    ).toEqual({
      r: true,
      l: false,
    });
  });

  it('root: a second create, or provider/watermark/combined arguments, are refused with 401', async () => {
    expect(await ret(node.db, createNode, ['rq', 'root', 'n1', 'w', null, null, null])).toEqual({
      ret_code: 401,
      ret_note: 'Node already initialized',
    });
    await register('rq2', 'n1');
    for (const args of [
      ['p', null, null],
      [null, 5, null],
      [null, null, 'rq'],
    ]) {
      expect(await ret(node.db, createNode, ['rq2', 'root', 'n1', 'w', ...args])).toEqual({
        ret_code: 401,
        ret_note: 'unexpected args for root',
      });
    }
    expect(await queueRow('rq2')).toBeUndefined();
  });

  it('branch: external ticker, inserts disabled, the watermark tick made, worker and .global_watermark there', async () => {
    await register('bq', 'n1');
    await register('bq', 'up');
    expect(await ret(node.db, createNode, ['bq', 'branch', 'n1', 'bw', 'up', 42, null])).toEqual({
      ret_code: 200,
      ret_note: 'Node "n1" initialized for queue "bq" with type "branch"',
    });
    expect(await queueRow('bq')).toEqual({
      queue_external_ticker: true,
      queue_disable_insert: true,
      ticks: ['1', '42'],
    });
    const tick = await one(
      node.db,
      `select tick_event_seq from pgq.tick join pgq.queue on tick_queue = queue_id
        where queue_name = 'bq' and tick_id = 42`,
    );
    expect(tick.tick_event_seq).toBe('1');
    expect(await consumers('bq')).toEqual([
      { consumer_name: '.global_watermark', last_tick: '42' },
    ]);
    expect(await localState('bq')).toEqual([
      {
        consumer_name: 'bw',
        provider_node: 'up',
        last_tick_id: '42',
        paused: false,
        uptodate: false,
        cur_error: null,
      },
    ]);
    // Only the worker may write into a branch queue.
    await expectPgError(
      node.db.query(`select pgq.insert_event('bq', 'x', 'y')`),
      'Insert into queue disallowed',
    );
  });

  it('branch at watermark 1 uses the tick create_queue made', async () => {
    await register('bq1', 'n1');
    await register('bq1', 'up');
    await node.db.query(createNode, ['bq1', 'branch', 'n1', 'bw', 'up', 1, null]);
    expect((await queueRow('bq1')).ticks).toEqual(['1']);
    expect(await consumers('bq1')).toEqual([
      { consumer_name: '.global_watermark', last_tick: '1' },
    ]);
  });

  it('branch: provider and watermark are required', async () => {
    await register('bq2', 'n1');
    expect(await ret(node.db, createNode, ['bq2', 'branch', 'n1', 'bw', null, 5, null])).toEqual({
      ret_code: 401,
      ret_note: 'provider not set for branch',
    });
    expect(await ret(node.db, createNode, ['bq2', 'branch', 'n1', 'bw', 'up', null, null])).toEqual(
      {
        ret_code: 401,
        ret_note: 'global watermark not set for branch',
      },
    );
    expect(await queueRow('bq2')).toBeUndefined();
  });

  it('leaf: no local queue; the worker starts at the given watermark', async () => {
    await register('lq', 'n1');
    await register('lq', 'up');
    expect(await ret(node.db, createNode, ['lq', 'leaf', 'n1', 'lw', 'up', 7, null])).toEqual({
      ret_code: 200,
      ret_note: 'Node "n1" initialized for queue "lq" with type "leaf"',
    });
    expect(await queueRow('lq')).toBeUndefined();
    expect(await localState('lq')).toEqual([
      {
        consumer_name: 'lw',
        provider_node: 'up',
        last_tick_id: '7',
        paused: false,
        uptodate: false,
        cur_error: null,
      },
    ]);
    expect(
      await one(
        node.db,
        `select pgq_node.is_root_node('lq') as r, pgq_node.is_leaf_node('lq') as l`,
      ),
    ).toEqual({
      r: false,
      l: true,
    });
  });

  it('leaf with a combined queue: the queue must exist here, and get_node_info shows it', async () => {
    await register('part', 'n1');
    await register('part', 'up');
    expect(
      await ret(node.db, createNode, ['part', 'leaf', 'n1', 'mw', 'up', 3, 'missing']),
    ).toEqual({
      ret_code: 401,
      ret_note: 'non-existing queue on leaf side: missing',
    });
    expect(
      await ret(node.db, createNode, ['part', 'leaf', 'n1', 'mw', 'up', 3, 'rq']),
    ).toMatchObject({
      ret_code: 200,
    });
    const info = await one(node.db, 'select * from pgq_node.get_node_info($1)', ['part']);
    expect(info).toMatchObject({
      combined_queue: 'rq',
      combined_type: 'root',
      local_watermark: '3',
    });
    const target = await one(node.db, 'select * from pgq_node.get_node_info($1)', ['rq']);
    expect(target.target_for).toEqual(['part']);
  });

  it('an unknown node type is refused with 401 and nothing is written', async () => {
    await register('tq', 'n1');
    expect(await ret(node.db, createNode, ['tq', 'twig', 'n1', 'w', 'up', 3, null])).toEqual({
      ret_code: 401,
      ret_note: 'bad node type: twig',
    });
    expect(await localState('tq')).toEqual([]);
    expect(
      (
        await one(
          node.db,
          `select count(*)::int as n from pgq_node.node_info where queue_name = 'tq'`,
        )
      ).n,
    ).toBe(0);
  });

  it('needs the own location registered first, and a provider that is a member', async () => {
    await expect(
      node.db.query(createNode, ['nq', 'root', 'n1', 'w', null, null, null]),
    ).rejects.toMatchObject({
      code: '23503',
      message: expect.stringContaining('"node_info"'),
    });
    await register('nq', 'n1');
    await expect(
      node.db.query(createNode, ['nq', 'branch', 'n1', 'w', 'stranger', 3, null]),
    ).rejects.toMatchObject({
      code: '23503',
      message: expect.stringContaining('"local_state"'),
    });
    // The branch queue made before the failing insert went with the rollback.
    expect(await queueRow('nq')).toBeUndefined();
  });

  it('is_root_node / is_leaf_node name an unknown queue', async () => {
    await expectPgError(
      node.db.query(`select pgq_node.is_root_node('nope')`),
      'queue does not exist: nope',
    );
    await expectPgError(
      node.db.query(`select pgq_node.is_leaf_node('nope')`),
      'queue does not exist: nope',
    );
  });
});

describe('pgq_node.set_node_attrs', () => {
  it('stores the attributes shown by get_node_info; 404 for an unknown queue', async () => {
    await createRoot({ ...node, name: 'n1' }, 'aq');
    expect(
      await ret(node.db, `select * from pgq_node.set_node_attrs('aq', 'sync_watermark=n4,n5')`),
    ).toEqual({
      ret_code: 200,
      ret_note: 'Node attributes updated',
    });
    expect((await one(node.db, `select * from pgq_node.get_node_info('aq')`)).node_attrs).toBe(
      'sync_watermark=n4,n5',
    );
    expect(await ret(node.db, `select * from pgq_node.set_node_attrs('nope', 'a=b')`)).toEqual({
      ret_code: 404,
      ret_note: 'Node not found',
    });
  });
});
