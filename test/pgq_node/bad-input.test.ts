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

describe('pgq_node with names that need quoting', () => {
  const queue = `it's "odd".q ü`;
  let root: Node;
  let branch: Node;

  beforeAll(async () => {
    root = { ...(await nodeDatabase(test, `root.1 'r'`, 'hostile_root')), name: `root.1 'r'` };
    branch = { ...(await nodeDatabase(test, 'ノード "b"', 'hostile_branch')), name: 'ノード "b"' };
    await createRoot(root, queue, `w"root".x`);
    await createSubscriber(branch, root, queue, 'branch', { worker: `w'b'.ü` });
  });

  it('cascade calls work end to end and report the names as given', async () => {
    await produceAndTick(root, queue, ['x', 'y']);
    while (await workerStep(branch, root, queue)) {}
    const info = await one(branch.db, 'select * from pgq_node.get_node_info($1)', [queue]);
    expect(info).toMatchObject({
      ret_code: 100,
      node_type: 'branch',
      node_name: 'ノード "b"',
      provider_node: `root.1 'r'`,
      worker_name: `w'b'.ü`,
    });
    const { rows } = await root.db.query('select * from pgq_node.get_subscriber_info($1)', [queue]);
    expect(rows).toEqual([{ node_name: 'ノード "b"', worker_name: `w'b'.ü`, node_watermark: '1' }]);
    const top = info.worker_last_tick;
    expect(
      await ret(root.db, 'select * from pgq_node.set_subscriber_watermark($1, $2, $3)', [
        queue,
        'ノード "b"',
        top,
      ]),
    ).toEqual({ ret_code: 200, ret_note: `.ノード "b".watermark set to ${top}` });
    expect(
      (
        await one(root.db, 'select * from pgq.get_consumer_info($1, $2)', [
          queue,
          '.ノード "b".watermark',
        ])
      ).last_tick,
    ).toBe(top);
  });

  it('demote and promote steps work on such a queue', async () => {
    await root.db.query('select * from pgq_node.demote_root($1, 1, null)', [queue]);
    const step2 = await one(root.db, 'select * from pgq_node.demote_root($1, 2, null)', [queue]);
    expect(step2).toMatchObject({
      ret_code: 200,
      ret_note: `Step 2: Inserted last tick: ${queue}`,
    });
    while (await workerStep(branch, root, queue)) {}
    expect(
      await ret(branch.db, 'select * from pgq_node.promote_branch($1)', [queue]),
    ).toMatchObject({
      ret_code: 200,
    });
    expect(
      await one(root.db, 'select * from pgq_node.demote_root($1, 3, $2)', [queue, 'ノード "b"']),
    ).toMatchObject({
      ret_code: 200,
    });
    expect(
      (await one(root.db, 'select * from pgq_node.get_worker_state($1)', [queue])).provider_node,
    ).toBe('ノード "b"');
  });

  it('an injection attempt in a name is only a name', async () => {
    const evil = `x'); drop table pgq_node.node_info; --`;
    expect(
      await ret(root.db, 'select * from pgq_node.register_location($1, $2, $3, false)', [
        evil,
        evil,
        evil,
      ]),
    ).toEqual({ ret_code: 200, ret_note: 'Location registered' });
    expect(await ret(root.db, 'select * from pgq_node.drop_node($1, $2)', [evil, evil])).toEqual({
      ret_code: 200,
      ret_note: `Node dropped: ${evil}`,
    });
    expect((await one(root.db, 'select count(*)::int as n from pgq_node.node_info')).n).toBe(1);
  });
});

describe('pgq_node refuses bad input and changes nothing', () => {
  const queue = 'badq';
  let root: Node;
  let leaf: Node;

  beforeAll(async () => {
    root = await nodeDatabase(test, 'root');
    leaf = await nodeDatabase(test, 'leaf', 'bad_leaf');
    await createRoot(root, queue);
    await createSubscriber(leaf, root, queue, 'leaf');
    await produceAndTick(root, queue, ['a']);
  });

  /** Everything pgq_node and pgq keep, as one text. */
  async function snapshot(node: Node) {
    const row = await one(
      node.db,
      `select md5(concat_ws('|',
                (select string_agg(l::text, ',' order by l::text) from pgq_node.node_location l),
                (select string_agg(n::text, ',' order by n::text) from pgq_node.node_info n),
                (select string_agg(s::text, ',' order by s::text) from pgq_node.local_state s),
                (select string_agg(s::text, ',' order by s::text) from pgq_node.subscriber_info s),
                (select string_agg(q::text, ',' order by q::text) from pgq.queue q),
                (select string_agg(s::text, ',' order by s::text) from pgq.subscription s),
                (select string_agg(c::text, ',' order by c::text) from pgq.consumer c),
                (select string_agg(t::text, ',' order by t::text) from pgq.tick t),
                (select count(*) from pgq.event_template))) as h`,
    );
    return row.h as string;
  }

  type Outcome =
    | { ret_code: number; ret_note: string | null }
    | { code: string; message: string | RegExp };
  const cases: [string, unknown[], Outcome][] = [
    // unknown queue
    ['get_node_info($1)', ['nope'], { ret_code: 404, ret_note: 'Unknown queue: nope' }],
    ['get_worker_state($1)', ['nope'], { ret_code: 404, ret_note: 'Unknown queue: nope' }],
    [
      'register_subscriber($1, $2, $3, $4)',
      ['nope', 'leaf', 'w', null],
      { ret_code: 404, ret_note: 'Unknown queue: nope' },
    ],
    [
      'set_global_watermark($1, $2)',
      ['nope', 1],
      { ret_code: 404, ret_note: 'Queuenope not found' },
    ],
    [
      'demote_root($1, $2, $3)',
      ['nope', 1, 'x'],
      { ret_code: 404, ret_note: 'Node not initialized for queue: nope' },
    ],
    [
      'promote_branch($1)',
      ['nope'],
      { ret_code: 404, ret_note: 'Node not initialized for queue: nope' },
    ],
    [
      'register_consumer($1, $2, $3, $4)',
      ['nope', 'c', 'root', 1],
      { ret_code: 404, ret_note: 'Unknown queue: nope' },
    ],
    ['set_node_attrs($1, $2)', ['nope', 'a=1'], { ret_code: 404, ret_note: 'Node not found' }],
    [
      'unregister_subscriber($1, $2)',
      ['nope', 'leaf'],
      { ret_code: 304, ret_note: 'Subscriber not found' },
    ],
    [
      'set_partition_watermark($1, $2, $3)',
      ['nope', 'nope2', 1],
      { ret_code: 201, ret_note: 'Part-queue does not exist' },
    ],
    // unknown node or consumer
    [
      'unregister_location($1, $2)',
      [queue, 'mars'],
      { ret_code: 301, ret_note: `Location not found: ${queue}/mars` },
    ],
    [
      'set_subscriber_watermark($1, $2, $3)',
      [queue, 'mars', 1],
      { ret_code: 404, ret_note: 'node mars not subscribed to queue ' },
    ],
    [
      'change_consumer_provider($1, $2, $3)',
      [queue, 'root_worker', 'mars'],
      { ret_code: 404, ret_note: 'New node not found: mars' },
    ],
    [
      'set_consumer_paused($1, $2, $3)',
      [queue, 'ghost', true],
      { ret_code: 404, ret_note: 'Unknown consumer: ghost' },
    ],
    [
      'set_consumer_completed($1, $2, $3)',
      [queue, 'ghost', 1],
      { ret_code: 404, ret_note: `Consumer not known: ${queue}/ghost` },
    ],
    [
      'get_consumer_state($1, $2)',
      [queue, 'ghost'],
      { ret_code: 404, ret_note: `Unknown consumer: ${queue}/ghost` },
    ],
    // provider not in the set, wrong node kinds
    [
      'register_subscriber($1, $2, $3, $4)',
      [queue, 'mars', 'mars_worker', null],
      { code: '23503', message: /"subscriber_info"/ },
    ],
    [
      'register_consumer($1, $2, $3, $4)',
      [queue, 'c', 'mars', 1],
      { code: '23503', message: /"local_state"/ },
    ],
    [
      'create_node($1, $2, $3, $4, $5, $6, $7)',
      [queue, 'leaf', 'root', 'w', 'root', 1, null],
      { ret_code: 401, ret_note: 'Node already initialized' },
    ],
    [
      'demote_root($1, $2, $3)',
      [queue, 3, 'mars'],
      { code: 'P0001', message: 'steps in wrong order' },
    ],
    [
      'register_subscriber($1, $2, $3, $4)',
      [queue, 'leaf', 'leaf_worker', 999999],
      { code: 'P0001', message: 'cannot reposition, tick not found: 999999' },
    ],
    // NULLs
    [
      'register_location($1, $2, $3, $4)',
      [null, 'n', 'dbname=n', false],
      { code: '23502', message: /"queue_name"/ },
    ],
    [
      'register_location($1, $2, $3, $4)',
      [queue, null, 'dbname=n', false],
      { code: '23502', message: /"node_name"/ },
    ],
    [
      'create_node($1, $2, $3, $4, $5, $6, $7)',
      ['newq', null, 'root', 'w', null, null, null],
      { ret_code: 401, ret_note: null },
    ],
    [
      'create_node($1, $2, $3, $4, $5, $6, $7)',
      [null, 'root', 'root', 'w', null, null, null],
      { code: 'P0001', message: 'Invalid NULL value' },
    ],
    // As upstream, a note built from a NULL name is NULL.
    ['get_node_info($1)', [null], { ret_code: 404, ret_note: null }],
    [
      'demote_root($1, $2, $3)',
      [queue, null, 'leaf'],
      { code: 'P0001', message: 'incorrect step number' },
    ],
    // As upstream: nothing moves, 200 with a NULL note.
    [
      'set_subscriber_watermark($1, $2, $3)',
      [queue, 'leaf', null],
      { ret_code: 200, ret_note: null },
    ],
    [
      'register_location($1, $2, $3, $4)',
      [queue, 'leaf', 'dbname=x', null],
      { code: '23502', message: /"dead"/ },
    ],
    [
      'register_consumer($1, $2, $3, $4)',
      [queue, 'root_worker', 'root', null],
      { code: '23502', message: /"last_tick_id"/ },
    ],
    // A second registration of a subscriber, as upstream.
    [
      'register_subscriber($1, $2, $3, $4)',
      [queue, 'leaf', 'other_worker', null],
      { code: '23505', message: /"subscriber_info_pkey"/ },
    ],
    [
      'register_subscriber($1, $2, $3, $4)',
      [queue, 'leaf', null, null],
      { code: 'P0001', message: 'Invalid NULL value' },
    ],
    [
      'set_consumer_paused($1, $2, $3)',
      [queue, 'root_worker', null],
      { code: '23502', message: /"paused"/ },
    ],
    [
      'set_consumer_completed($1, $2, $3)',
      [queue, 'root_worker', null],
      { code: '23502', message: /"last_tick_id"/ },
    ],
  ];

  it.each(cases)('%s with %j', async (fn, args, outcome) => {
    const before = [await snapshot(root), await snapshot(leaf)];
    // Calls that only make sense on the leaf run there; the rest on the root.
    const node = /consumer_|change_consumer/.test(fn) && args[1] !== 'root_worker' ? leaf : root;
    const call = node.db.query(`select * from pgq_node.${fn}`, args);
    if ('ret_code' in outcome) {
      const { rows } = await call;
      expect({ ret_code: rows[0].ret_code, ret_note: rows[0].ret_note }).toEqual(outcome);
    } else {
      const error = await call.then(
        () => null,
        (e: { code: string; message: string }) => e,
      );
      expect(error?.code).toBe(outcome.code);
      if (typeof outcome.message === 'string') expect(error?.message).toBe(outcome.message);
      else expect(error?.message).toMatch(outcome.message);
    }
    expect([await snapshot(root), await snapshot(leaf)]).toEqual(before);
  });
});
