/**
 * root -> branch -> leaf on three clusters, with the Node worker on branch and leaf and a
 * CascadedConsumer on the leaf: events produced on the root by several producers in many
 * transactions, ticked as they come, arrive on the leaf in order and exactly once; the
 * branch's ticks and batches are the root's.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedConsumer, CascadedWorker } from '../../src/cascade/index.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';
import {
  background,
  batches,
  clusterNode,
  completedTick,
  createChain,
  memoryLogger,
  queueEvents,
  queueTop,
  sharedNode,
  type TestNode,
  tickRoot,
  ticks,
  waitFor,
} from './helpers.js';

const test = useTestDatabase();
const startCluster = useExtraClusters();
const queue = 'orders';
const stress = process.env.SKYTOOLS_STRESS === '1';
const producers = 4;
const transactions = stress ? 500 : 125; // per producer
const perTransaction = 100;
const total = producers * transactions * perTransaction;

let root: TestNode;
let branch: TestNode;
let leaf: TestNode;
let start: string;

beforeAll(async () => {
  const [b, l] = await Promise.all([startCluster(), startCluster()]);
  root = await sharedNode(test, 'root');
  [branch, leaf] = await Promise.all([clusterNode(b, 'branch'), clusterNode(l, 'leaf')]);
  start = await createChain(queue, [root, branch, leaf], 'leaf');
  await leaf.db.query('create table applied (seq bigserial, ev_id bigint, data text, tick bigint)');
  await CascadedConsumer.register({ connection: leaf.config, queue, consumer: 'app' });
});

afterAll(async () => {
  await Promise.all([branch?.db.end(), leaf?.db.end()]);
});

async function produce(producer: number): Promise<void> {
  const client = new pg.Client(root.config);
  await client.connect();
  try {
    for (let t = 0; t < transactions; t++) {
      const from = t * perTransaction;
      await client.query(
        `select pgq.insert_event($1, 'order', $2 || '-' || lpad(i::text, 7, '0'), 'e1', null, 'e3', null)
           from generate_series($3::int, $4::int) i`,
        [queue, `p${producer}`, from, from + perTransaction - 1],
      );
    }
  } finally {
    await client.end();
  }
}

describe('cascade on three clusters with the Node worker', () => {
  it('delivers every event to the leaf consumer once, in order; branch ticks and batches are the root’s', async () => {
    const log = memoryLogger();
    const workers = [branch, leaf].map((node) =>
      background((signal) =>
        new CascadedWorker({
          connection: node.config,
          queue,
          loopDelay: 0.05,
          batchMaxEvents: 2000,
          retryDelay: 0.2,
          logger: log,
        }).run({ signal }),
      ),
    );
    const consumer = background((signal) =>
      new CascadedConsumer({
        connection: leaf.config,
        queue,
        consumer: 'app',
        loopDelay: 0.05,
        retryDelay: 0.2,
        logger: log,
      }).run(
        async (event, ctx) => {
          await ctx.target.query('insert into applied (ev_id, data, tick) values ($1, $2, $3)', [
            event.id,
            event.data,
            ctx.batch.tick,
          ]);
        },
        { signal },
      ),
    );
    // A ticker of the test's own, one call at a time, while the producers run.
    let producing = true;
    const ticker = (async () => {
      while (producing) {
        await tickRoot(root.db, queue);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await tickRoot(root.db, queue);
    })();
    await Promise.all(Array.from({ length: producers }, (_, p) => produce(p)));
    producing = false;
    await ticker;
    const top = await queueTop(root.db, queue);

    await waitFor(
      async () => (await completedTick(leaf.db, queue)) === top,
      'the leaf worker to reach the root tick',
    );
    await waitFor(async () => {
      const { rows } = await leaf.db.query(
        "select completed_tick::text as t from pgq_node.get_consumer_state($1, 'app')",
        [queue],
      );
      return rows[0]?.t === top;
    }, 'the leaf consumer to reach the root tick');
    await Promise.all([...workers.map((w) => w.stop()), consumer.stop()]);
    expect(log.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);

    const applied = await leaf.db.query(
      'select a.ev_id::text, a.data from applied a order by a.ev_id',
    );
    expect(applied.rows).toHaveLength(total);
    const rootEvents = await queueEvents(root.db, queue);
    expect(applied.rows).toEqual(
      rootEvents
        .filter((e) => e.ev_type === 'order')
        .map((e) => ({ ev_id: e.ev_id, data: e.ev_data })),
    );
    expect(await queueEvents(branch.db, queue)).toEqual(rootEvents);
    const rootTicks = await ticks(root.db, queue, start);
    expect(rootTicks.length).toBeGreaterThan(20);
    expect(await ticks(branch.db, queue, start)).toEqual(rootTicks);
    const rootBatches = await batches(root.db, queue, start);
    expect(await batches(branch.db, queue, start)).toEqual(rootBatches);
    // In order: batch after batch as the root made them, by ev_id within a batch (a
    // producer's later transaction can commit first and so carry lower ids into a batch).
    const orderIds = new Set(rootEvents.filter((e) => e.ev_type === 'order').map((e) => e.ev_id));
    const inserted = await leaf.db.query('select ev_id::text from applied order by seq');
    expect(inserted.rows.map((r) => r.ev_id)).toEqual(
      rootBatches.flatMap(([, ids]) => ids).filter((id) => orderIds.has(id)),
    );
  }, 180_000);
});
