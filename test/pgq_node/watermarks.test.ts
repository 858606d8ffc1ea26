import { beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import {
  createRoot,
  createSubscriber,
  type Node,
  nodeDatabase,
  one,
  produceAndTick,
  publishLocalWatermark,
  ret,
  workerStep,
} from './node-helpers.js';

const test = useTestDatabase();
const queue = 'wmq';
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

const setGlobal = 'select * from pgq_node.set_global_watermark($1, $2)';

async function position(node: Node, consumer: string) {
  const { rows } = await node.db.query('select last_tick from pgq.get_consumer_info($1, $2)', [
    queue,
    consumer,
  ]);
  return rows[0]?.last_tick as string | undefined;
}

async function globalWatermarkEvents() {
  const { rows } = await root.db.query(
    `select ev_data, ev_extra1 from pgq.event_template
      where ev_type = 'pgq.global-watermark' order by ev_id`,
  );
  return rows;
}

/** Run the branch and leaf workers until both have nothing more to do. */
async function drain() {
  while ((await workerStep(branch, root, queue)) || (await workerStep(leaf, branch, queue))) {}
}

describe('pgq_node watermarks', () => {
  it('local watermarks travel up: leaf → branch .leaf.watermark, branch → root .branch.watermark', async () => {
    const t1 = await produceAndTick(root, queue, ['a', 'b']);
    const t2 = await produceAndTick(root, queue, ['c']);
    await drain();
    // The leaf completed t2; its local watermark is its worker's position.
    expect(await publishLocalWatermark(leaf, branch, queue)).toEqual({
      ret_code: 200,
      ret_note: `.leaf.watermark set to ${t2}`,
    });
    // The branch's lowest consumer is now .leaf.watermark / the leaf worker, both at t2.
    const branchInfo = await one(branch.db, 'select * from pgq_node.get_node_info($1)', [queue]);
    expect(branchInfo.local_watermark).toBe(t2);
    expect(await publishLocalWatermark(branch, root, queue)).toEqual({
      ret_code: 200,
      ret_note: `.branch.watermark set to ${t2}`,
    });
    expect(await position(root, '.branch.watermark')).toBe(t2);
    expect(Number(t1)).toBeLessThan(Number(t2));
  });

  it('root: NULL moves .global_watermark to the local watermark and announces it', async () => {
    const info = await one(root.db, 'select * from pgq_node.get_node_info($1)', [queue]);
    expect(await ret(root.db, setGlobal, [queue, null])).toEqual({
      ret_code: 200,
      ret_note: `Global watermark set to ${info.local_watermark}`,
    });
    expect(await position(root, '.global_watermark')).toBe(info.local_watermark);
    expect(await globalWatermarkEvents()).toEqual([
      { ev_data: info.local_watermark, ev_extra1: queue },
    ]);
    // The root's worker position follows it.
    const state = await one(root.db, 'select * from pgq_node.get_worker_state($1)', [queue]);
    expect(state.completed_tick).toBe(info.local_watermark);
    expect(state.global_watermark).toBe(info.local_watermark);
  });

  it('branch applies the announced watermark from the event; leaf ignores it', async () => {
    const wm = (await globalWatermarkEvents())[0].ev_data;
    await produceAndTick(root, queue, []);
    await drain();
    expect(await position(branch, '.global_watermark')).toBe(wm);
    expect(await ret(leaf.db, setGlobal, [queue, wm])).toEqual({
      ret_code: 100,
      ret_note: 'Ignoring global watermark in leaf',
    });
  });

  it('branch: a tick not copied yet is skipped, NULL is refused, unknown queue 404', async () => {
    const before = await position(branch, '.global_watermark');
    expect(await ret(branch.db, setGlobal, [queue, 99999])).toEqual({
      ret_code: 200,
      ret_note: 'Skipping global watermark update to 99999',
    });
    expect(await ret(branch.db, setGlobal, [queue, null])).toEqual({
      ret_code: 500,
      ret_note: 'bad usage: wm=null on branch node',
    });
    expect(await position(branch, '.global_watermark')).toBe(before);
    expect(await ret(branch.db, setGlobal, ['nope', 1])).toEqual({
      ret_code: 404,
      ret_note: 'Queuenope not found',
    });
  });

  it('two movers on the root at once (worker and pgqd) both succeed, one after the other', async () => {
    await produceAndTick(root, queue, ['d']);
    await drain();
    await publishLocalWatermark(leaf, branch, queue);
    await publishLocalWatermark(branch, root, queue);
    const a = await test.connect();
    const b = await test.connect();
    const eventsBefore = (await globalWatermarkEvents()).length;
    const results = await Promise.all([
      ret(a, setGlobal, [queue, null]),
      ret(b, setGlobal, [queue, null]),
    ]);
    expect(results.map((r) => r.ret_code)).toEqual([200, 200]);
    const events = await globalWatermarkEvents();
    expect(events).toHaveLength(eventsBefore + 2);
    const local = (await one(root.db, 'select * from pgq_node.get_node_info($1)', [queue]))
      .local_watermark;
    expect(events.slice(-2).map((e) => e.ev_data)).toEqual([local, local]);
  });
});

describe('pgq_node.maint_watermark', () => {
  it('is listed by pgq.maint_operations() for the root only', async () => {
    const { rows } = await root.db.query(
      `select func_name, func_arg from pgq.maint_operations() where func_name like 'pgq_node.%'`,
    );
    expect(rows).toEqual([{ func_name: 'pgq_node.maint_watermark', func_arg: queue }]);
    const onBranch = await branch.db.query(
      `select 1 from pgq.maint_operations() where func_name like 'pgq_node.%'`,
    );
    expect(onBranch.rowCount).toBe(0);
  });

  it('leaves a fresh global watermark alone and moves one that lags 5 minutes', async () => {
    const eventsBefore = (await globalWatermarkEvents()).length;
    expect((await one(root.db, 'select pgq_node.maint_watermark($1) as r', [queue])).r).toBe(0);
    expect(await globalWatermarkEvents()).toHaveLength(eventsBefore);

    // Age the tick .global_watermark stands on, as if its worker had stopped 6 minutes ago.
    await root.db.query(
      `update pgq.tick t set tick_time = now() - interval '6 minutes'
         from pgq.queue q
        where q.queue_id = t.tick_queue and q.queue_name = $1
          and t.tick_id = (select last_tick from pgq.get_consumer_info($1, '.global_watermark'))`,
      [queue],
    );
    await produceAndTick(root, queue, ['e']);
    await drain();
    await publishLocalWatermark(leaf, branch, queue);
    await publishLocalWatermark(branch, root, queue);
    const local = (await one(root.db, 'select * from pgq_node.get_node_info($1)', [queue]))
      .local_watermark;
    expect((await one(root.db, 'select pgq_node.maint_watermark($1) as r', [queue])).r).toBe(0);
    expect(await position(root, '.global_watermark')).toBe(local);
    expect((await globalWatermarkEvents()).at(-1)?.ev_data).toBe(local);
  });

  it('does nothing on a branch, a leaf or an unknown queue', async () => {
    for (const node of [branch, leaf]) {
      expect((await one(node.db, 'select pgq_node.maint_watermark($1) as r', [queue])).r).toBe(0);
    }
    expect((await one(root.db, `select pgq_node.maint_watermark('nope') as r`)).r).toBe(0);
  });
});
