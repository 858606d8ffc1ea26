/**
 * Role and provider changes made with the admin tool's SQL calls under running workers and
 * a running CascadedConsumer, while the root keeps producing: change-provider of a leaf's
 * worker and of a consumer from the branch to the root, and a switchover (demote the root,
 * promote the branch). Every event reaches the consumer once, in the cascade's order.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedConsumer, CascadedWorker } from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  background,
  batches,
  completedTick,
  createChain,
  memoryLogger,
  one,
  queueEvents,
  queueTop,
  sharedNodes,
  type TestNode,
  tickRoot,
  ticks,
  waitFor,
} from './helpers.js';

const test = useTestDatabase();
let root: TestNode;
let branch: TestNode;
let leaf: TestNode;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [root, branch, leaf] = await sharedNodes(test, 'root', 'branch', 'leaf');
});

afterAll(async () => {
  for (const close of closers.splice(0)) await close();
});

function runWorker(node: TestNode, queue: string, log = memoryLogger()) {
  const run = background((signal) =>
    new CascadedWorker({
      connection: node.config,
      queue,
      loopDelay: 0.05,
      retryDelay: 0.1,
      logger: log,
    }).run({ signal }),
  );
  closers.push(() => run.stop());
  return run;
}

/** A producer on `node`: small transactions and a tick after each, until stopped. */
function producer(node: TestNode, queue: string, prefix: string) {
  let stop = false;
  let n = 0;
  const done = (async () => {
    const client = new pg.Client(node.config);
    await client.connect();
    try {
      while (!stop) {
        await client.query(
          `select pgq.insert_event($1, 'data', $2 || i) from generate_series($3::int, $3 + 9) i`,
          [queue, prefix, n],
        );
        n += 10;
        await tickRoot(client, queue);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } finally {
      await client.end();
    }
  })();
  return async () => {
    stop = true;
    await done;
    return n;
  };
}

async function pause(node: TestNode, queue: string, consumer: string, paused: boolean) {
  await node.db.query('select * from pgq_node.set_consumer_paused($1, $2, $3)', [
    queue,
    consumer,
    paused,
  ]);
  await waitFor(
    async () =>
      (await one(node.db, 'select * from pgq_node.get_consumer_state($1, $2)', [queue, consumer]))
        .uptodate === true,
    `${consumer} to acknowledge`,
  );
}

async function position(node: TestNode, queue: string, consumer: string): Promise<string> {
  return (
    await one(node.db, 'select * from pgq_node.get_consumer_state($1, $2)', [queue, consumer])
  ).completed_tick;
}

describe('provider changes under running workers', () => {
  it('change-provider of a leaf worker and a cascaded consumer from the branch to the root', async () => {
    const queue = 'moving';
    await createChain(queue, [root, branch, leaf], 'leaf');
    await leaf.db.query('create table applied (seq bigserial, ev_id bigint, data text)');
    await CascadedConsumer.register({ connection: leaf.config, queue, consumer: 'app' });
    runWorker(branch, queue);
    runWorker(leaf, queue);
    const app = background((signal) =>
      new CascadedConsumer({
        connection: leaf.config,
        queue,
        consumer: 'app',
        loopDelay: 0.05,
        retryDelay: 0.1,
      }).run(
        async (event, ctx) => {
          await ctx.target.query('insert into applied (ev_id, data) values ($1, $2)', [
            event.id,
            event.data,
          ]);
        },
        { signal },
      ),
    );
    closers.push(() => app.stop());
    const stopProducing = producer(root, queue, 'm');
    await waitFor(async () => Number(await position(leaf, queue, 'app')) > 5, 'some progress');

    // change-provider --node leaf --provider root
    await pause(leaf, queue, 'leaf_worker', true);
    const workerAt = await completedTick(leaf.db, queue);
    await root.db.query('select * from pgq_node.register_subscriber($1, $2, $3, $4)', [
      queue,
      'leaf',
      'leaf_worker',
      workerAt,
    ]);
    await leaf.db.query('select * from pgq_node.change_consumer_provider($1, $2, $3)', [
      queue,
      'leaf_worker',
      'root',
    ]);
    await pause(leaf, queue, 'leaf_worker', false);
    await branch.db.query('select * from pgq_node.unregister_subscriber($1, $2)', [queue, 'leaf']);

    // change-provider --consumer app --provider root
    await pause(leaf, queue, 'app', true);
    const appAt = await position(leaf, queue, 'app');
    await root.db.query('select pgq.register_consumer_at($1, $2, $3)', [queue, 'app', appAt]);
    await leaf.db.query('select * from pgq_node.change_consumer_provider($1, $2, $3)', [
      queue,
      'app',
      'root',
    ]);
    await pause(leaf, queue, 'app', false);
    await branch.db.query('select pgq.unregister_consumer($1, $2)', [queue, 'app']);

    const afterMove = Number(await queueTop(root.db, queue));
    await waitFor(
      async () => Number(await position(leaf, queue, 'app')) > afterMove + 3,
      'progress after the move',
    );
    await stopProducing();
    const top = await queueTop(root.db, queue);
    await waitFor(async () => (await position(leaf, queue, 'app')) === top, 'the consumer');
    await waitFor(async () => (await completedTick(leaf.db, queue)) === top, 'the leaf worker');
    const state = await one(leaf.db, 'select * from pgq_node.get_worker_state($1)', [queue]);
    expect(state).toMatchObject({ provider_node: 'root', cur_error: null });

    const data = (await queueEvents(root.db, queue)).filter((e) => e.ev_type === 'data');
    const applied = await leaf.db.query('select ev_id::text, data from applied order by seq');
    const rootOrder = (await batches(root.db, queue, '1')).flatMap(([, ids]) => ids);
    const dataIds = new Set(data.map((e) => e.ev_id));
    expect(applied.rows.map((r) => r.ev_id)).toEqual(rootOrder.filter((id) => dataIds.has(id)));
    expect(applied.rows).toHaveLength(data.length);
  });

  it('switchover under running workers: the branch becomes root, the old root follows it', async () => {
    const queue = 'switching';
    await createChain(queue, [root, branch]);
    const rootLog = memoryLogger();
    runWorker(root, queue, rootLog);
    runWorker(branch, queue);
    let stopProducing = producer(root, queue, 'old');
    await waitFor(async () => Number(await completedTick(branch.db, queue)) > 5, 'some progress');
    await stopProducing();

    // takeover branch (switchover), as the admin does it
    await pause(root, queue, 'root_worker', true);
    await root.db.query('select * from pgq_node.demote_root($1, 1, null)', [queue]);
    const { last_tick: lastTick } = await one(
      root.db,
      'select * from pgq_node.demote_root($1, 2, null)',
      [queue],
    );
    await waitFor(async () => (await completedTick(branch.db, queue)) === lastTick, 'catch up');
    await pause(branch, queue, 'branch_worker', true);
    const published = async () =>
      (await queueEvents(branch.db, queue)).filter((e) => e.ev_type === 'pgq.global-watermark')
        .length;
    const publishedBefore = await published();
    await branch.db.query('select * from pgq_node.promote_branch($1)', [queue]);
    await branch.db.query('select * from pgq_node.register_subscriber($1, $2, $3, $4)', [
      queue,
      'root',
      'root_worker',
      lastTick,
    ]);
    await root.db.query('select * from pgq_node.unregister_subscriber($1, $2)', [queue, 'branch']);
    await pause(branch, queue, 'branch_worker', false);
    await root.db.query('select * from pgq_node.demote_root($1, 3, $2)', [queue, 'branch']);
    await pause(root, queue, 'root_worker', false);

    // The promoted node's worker now publishes the global watermark itself.
    await waitFor(async () => (await published()) > publishedBefore, 'a global watermark event');
    stopProducing = producer(branch, queue, 'new');
    await waitFor(
      async () => Number(await completedTick(root.db, queue)) > Number(lastTick) + 5,
      'the old root to follow the new one',
    );
    await stopProducing();
    const top = await queueTop(branch.db, queue);
    await waitFor(async () => (await completedTick(root.db, queue)) === top, 'the old root');
    await waitFor(async () => (await queueTop(root.db, queue)) === top, 'the last tick');
    expect(await queueEvents(root.db, queue)).toEqual(await queueEvents(branch.db, queue));
    expect(await ticks(root.db, queue, lastTick)).toEqual(await ticks(branch.db, queue, lastTick));
    expect(rootLog.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
