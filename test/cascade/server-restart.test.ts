/**
 * A server restart in the middle of a branch's copy, root and branch on clusters of their own.
 * The copy is held inside its local transaction (the test locks the branch's event table), then
 * the provider's server restarts (the copy commits locally after it, the finish on the provider
 * is lost: the next loop only finishes the batch) or the branch's own (the copy rolls back and
 * is made again). Afterwards the branch's queue is the root's: every event once, same ids,
 * same ticks and batches.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { quoteQualified } from '../../src/db/quote.js';
import type { Cluster } from '../../src/pg/index.js';
import { restart, useRestartableClusters } from '../harness/clusters.js';
import {
  background,
  batches,
  clusterNode,
  completedTick,
  createChain,
  memoryLogger,
  queueEvents,
  type TestNode,
  tickRoot,
  ticks,
  waitFor,
} from './helpers.js';

const startCluster = useRestartableClusters();
const queue = 'rq';
const application = 'restart-test-worker';
// `npm run test:stress` (SKYTOOLS_STRESS=1) restarts each server five times.
const rounds = process.env.SKYTOOLS_STRESS === '1' ? 5 : 1;
const log = memoryLogger();

let rootCluster: Cluster;
let branchCluster: Cluster;
let root: TestNode;
let branch: TestNode;
let start: string;
let worker: ReturnType<typeof background>;
let produced = 0;

/** A short session: the nodes' own clients do not survive a restart. */
async function on<T>(node: TestNode, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(node.config);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** 50 events on the root, then a tick: one batch; returns the tick id. */
async function produce(): Promise<string> {
  const from = produced;
  produced += 50;
  return on(root, async (db) => {
    await db.query(
      `select pgq.insert_event($1, 'r', i::text, $1, null, null, null)
         from generate_series($2::int, $3::int) i`,
      [queue, from, from + 49],
    );
    return tickRoot(db, queue);
  });
}

async function caughtUp(tick: string): Promise<void> {
  await waitFor(
    async () => (await on(branch, (db) => completedTick(db, queue))) === tick,
    `the branch to complete tick ${tick}`,
  );
}

/**
 * A session on the branch holding its event tables in SHARE mode: the worker's copy waits
 * for it inside its local transaction. Resolves once the copy waits.
 */
async function holdTheCopy(): Promise<pg.Client> {
  const holder = new pg.Client(branch.config);
  holder.on('error', () => {}); // ended by the branch's restart
  await holder.connect();
  const { rows } = await holder.query(
    'select queue_data_pfx as t from pgq.queue where queue_name = $1',
    [queue],
  );
  const [schema, table] = String(rows[0]?.t).split('.') as [string, string];
  await holder.query('begin');
  await holder.query(`lock table ${quoteQualified(schema, table)} in share mode`);
  return holder;
}

async function copyWaiting(): Promise<void> {
  await waitFor(
    () =>
      on(branch, async (db) => {
        const { rows } = await db.query(
          `select 1 from pg_stat_activity
            where application_name = $1 and datname = current_database()
              and wait_event_type = 'Lock' and query ilike 'copy%'`,
          [application],
        );
        return rows.length === 1;
      }),
    'the copy to wait inside its transaction',
  );
}

/** The provider has sent the whole batch: its session is idle after the COPY. */
async function providerCopyDone(): Promise<void> {
  await waitFor(
    () =>
      on(root, async (db) => {
        const { rows } = await db.query(
          `select 1 from pg_stat_activity
            where application_name = $1 and datname = current_database()
              and state = 'idle' and query ilike 'copy%'`,
          [`${application} (provider)`],
        );
        return rows.length === 1;
      }),
    "the provider's COPY to end",
  );
}

async function sameQueues(): Promise<void> {
  const [rootEvents, rootTicks, rootBatches] = await on(root, async (db) => [
    await queueEvents(db, queue),
    await ticks(db, queue, start),
    await batches(db, queue, start),
  ]);
  const [branchEvents, branchTicks, branchBatches] = await on(branch, async (db) => [
    await queueEvents(db, queue),
    await ticks(db, queue, start),
    await batches(db, queue, start),
  ]);
  expect(rootEvents.filter((e) => e.ev_type === 'r')).toHaveLength(produced);
  expect(branchEvents).toEqual(rootEvents);
  expect(branchTicks).toEqual(rootTicks);
  expect(branchBatches).toEqual(rootBatches);
}

const failedLoops = () => log.lines.filter((l) => l.msg === 'worker loop failed; retrying').length;

beforeAll(async () => {
  [rootCluster, branchCluster] = await Promise.all([startCluster(), startCluster()]);
  [root, branch] = await Promise.all([
    clusterNode(rootCluster, 'root'),
    clusterNode(branchCluster, 'branch'),
  ]);
  start = await createChain(queue, [root, branch]);
  await Promise.all([root.db.end(), branch.db.end()]);
  worker = background((signal) =>
    new CascadedWorker({
      connection: branch.config,
      queue,
      loopDelay: 0.05,
      retryDelay: 0.1,
      applicationName: application,
      logger: log,
    }).run({ signal }),
  );
  await caughtUp(await produce());
});

afterAll(async () => {
  await worker?.stop();
});

describe('server restart during a cascade copy', () => {
  it("the provider's server: the copy commits, the lost finish is made by the next loop", async () => {
    for (let round = 0; round < rounds; round++) {
      const holder = await holdTheCopy();
      const failed = failedLoops();
      const finishedOnly = log.lines.filter((l) => l.msg.startsWith('batch applied before')).length;
      await produce();
      await copyWaiting();
      await providerCopyDone();
      await restart(rootCluster);
      await holder.query('commit');
      await holder.end();
      await caughtUp(await produce());
      expect(failedLoops()).toBeGreaterThan(failed);
      expect(log.lines.filter((l) => l.msg.startsWith('batch applied before'))).toHaveLength(
        finishedOnly + 1,
      );
    }
    await sameQueues();
  });

  it("the branch's server: the copy rolls back and is made again", async () => {
    for (let round = 0; round < rounds; round++) {
      const holder = await holdTheCopy();
      const failed = failedLoops();
      await produce();
      await copyWaiting();
      await restart(branchCluster);
      await holder.end().catch(() => {});
      await caughtUp(await produce());
      expect(failedLoops()).toBeGreaterThan(failed);
    }
    await sameQueues();
  });
});
