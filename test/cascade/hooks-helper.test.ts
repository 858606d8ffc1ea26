/**
 * The worker's copy-helper mode: a helper on a branch registers its own consumer on the
 * provider at its first loop, applies the tool's events in its own position's transaction,
 * and leaves the node alone: the node's worker position, its queue, its ticks, its
 * watermark and its member list do not move; unregister removes it on both sides.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  completedTick,
  createChain,
  queueEvents,
  sharedNodes,
  type TestNode,
  tickRoot,
  ticks,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'helped';
const helperName = 'branch_worker.copy.public.t1';
let root: TestNode;
let branch: TestNode;
let start: string;

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
  start = await createChain(queue, [root, branch]);
  await branch.db.query('create table t1 (id int primary key, v text)');
});

async function nodeView() {
  const info = await branch.db.query(
    'select worker_last_tick::text, local_watermark::text, global_watermark::text' +
      ' from pgq_node.get_node_info($1)',
    [queue],
  );
  const members = await branch.db.query(
    'select node_name from pgq_node.get_queue_locations($1) order by 1',
    [queue],
  );
  return {
    info: info.rows[0],
    completed: await completedTick(branch.db, queue),
    ticks: await ticks(branch.db, queue, start),
    events: await queueEvents(branch.db, queue),
    members: members.rows.map((r) => r.node_name),
  };
}

describe('copy-helper mode', () => {
  it('registers itself, applies the tool events, and moves nothing of the node', async () => {
    const helper = new CascadedWorker({
      connection: branch.config,
      queue,
      copyHelper: { consumer: helperName },
      hooks: {
        eventFilter: () => "ev_extra1 = 'public.t1'",
        async applyEvents(ctx, events) {
          for (const event of events) {
            await ctx.subscriber.query('insert into t1 values ($1, $2)', [
              Number(event.data),
              event.type,
            ]);
          }
        },
        beforeBatch(ctx) {
          expect(ctx.kind).toBe('copy-helper');
          expect(ctx.consumer).toBe(helperName);
        },
      },
    });
    try {
      // First loop: registered on the root and in the branch, no batch yet.
      expect(await helper.runOnce()).toBe(false);
      const onRoot = await root.db.query(
        'select consumer_name from pgq.get_consumer_info($1, $2)',
        [queue, helperName],
      );
      expect(onRoot.rows).toHaveLength(1);
      const before = await nodeView();

      await root.db.query("select pgq.insert_event($1, 'I', '1', 'public.t1', null, null, null)", [
        queue,
      ]);
      await root.db.query("select pgq.insert_event($1, 'I', '2', 'public.t2', null, null, null)", [
        queue,
      ]);
      await root.db.query('select * from pgq_node.register_location($1, $2, $3, false)', [
        queue,
        'newcomer',
        'dbname=newcomer',
      ]);
      const tick = await tickRoot(root.db, queue);
      let busy = 0;
      while (await helper.runOnce()) busy++;
      expect(busy).toBe(1);

      const { rows } = await branch.db.query('select id, v from t1 order by id');
      expect(rows).toEqual([{ id: 1, v: 'I' }]);
      const state = await branch.db.query(
        'select completed_tick::text as t from pgq_node.get_consumer_state($1, $2)',
        [queue, helperName],
      );
      expect(state.rows[0]?.t).toBe(tick);
      // The node: same worker position, no copied event, no tick, same watermarks and members.
      expect(await nodeView()).toEqual(before);
      expect(before.members).not.toContain('newcomer');

      await helper.unregister();
      const gone = await branch.db.query(
        'select count(*)::int as n from pgq_node.local_state where queue_name = $1 and consumer_name = $2',
        [queue, helperName],
      );
      expect(gone.rows[0]?.n).toBe(0);
      const goneOnRoot = await root.db.query(
        'select count(*)::int as n from pgq.get_consumer_info($1) where consumer_name = $2',
        [queue, helperName],
      );
      expect(goneOnRoot.rows[0]?.n).toBe(0);
    } finally {
      await helper.close();
    }
  });

  it('a helper and the node worker run side by side; a second helper of one name is refused', async () => {
    const make = () =>
      new CascadedWorker({
        connection: branch.config,
        queue,
        copyHelper: { consumer: 'side' },
        hooks: { applyEvents: async () => {} },
      });
    const nodeWorker = new CascadedWorker({ connection: branch.config, queue });
    const first = make();
    const second = make();
    try {
      expect(await first.runOnce()).toBe(false);
      await nodeWorker.runOnce(); // the node's own lock is another one
      await expect(second.runOnce()).rejects.toThrow(/copy helper "side" .* already runs/);
    } finally {
      await Promise.all([first.close(), second.close(), nodeWorker.close()]);
    }
  });

  it('refuses a copyHelper without a consumer name', () => {
    expect(
      () =>
        new CascadedWorker({
          connection: branch.config,
          queue,
          copyHelper: { consumer: '' },
        }),
    ).toThrow('option copyHelper.consumer must be a non-empty string');
  });
});
