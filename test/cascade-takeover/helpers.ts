/**
 * Cascade nodes on real clusters for the takeover tests: node databases with pgq and
 * pgq_node installed, set up with the SQL calls create-root/branch/leaf make; in-process
 * workers and cascaded consumers stopped by AbortSignal; a ticker and a producer that follow
 * whichever node is root; an admin session whose output is kept for assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, inject } from 'vitest';
import { AdminSession } from '../../src/cascade/admin/session.js';
import { CascadedConsumer } from '../../src/cascade/cascaded-consumer.js';
import { CascadedWorker } from '../../src/cascade/cascaded-worker.js';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import { Cluster, findFreePort } from '../../src/pg/index.js';
import {
  type AdminFixture,
  cli,
  lastTick,
  type NodeDb,
  poll,
  produceAndTick,
  type Worker,
} from '../cascade-admin/helpers.js';
import type { TestDatabase } from '../harness/database.js';
import type { Node } from '../pgq_node/node-helpers.js';

import { createRoot, createSubscriber } from '../pgq_node/node-helpers.js';

export { createRoot, createSubscriber };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A cluster that can be stopped and started again (a throwaway cluster is removed when
 * stopped), stopped and removed after the file.
 */
export function useRestartableClusters(): () => Promise<Cluster> {
  const { binDir } = inject('sharedCluster');
  const started: { cluster: Cluster; dir: string }[] = [];
  afterAll(async () => {
    for (const { cluster, dir } of started.splice(0)) {
      await cluster.stop({ mode: 'immediate' }).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skytools-takeover-'));
    // A pinned port: the node's registered location must still reach it after a restart.
    const port = await findFreePort();
    const cluster = await Cluster.init({ dir, pgBin: binDir, fsync: false, port });
    started.push({ cluster, dir });
    await cluster.start({ stopOnExit: true });
    return cluster;
  };
}

/** A node database on an extra cluster, with the schemas installed. */
export async function clusterNode(cluster: Cluster, name: string): Promise<Node> {
  const admin = new pg.Client(cluster.connectionConfig('postgres'));
  await admin.connect();
  try {
    await admin.query(`create database ${quoteIdent(name)}`);
  } finally {
    await admin.end();
  }
  const node = await reconnect(cluster, name);
  await installSchemas(node.db, ['pgq', 'pgq_node']);
  return node;
}

/** A new connection to a node database of an extra cluster (e.g. after a restart). */
export async function reconnect(cluster: Cluster, name: string): Promise<Node> {
  const db = new pg.Client(cluster.connectionConfig(name));
  db.on('error', () => {});
  await db.connect();
  closers.push(() => db.end());
  const location = `host=${cluster.host} port=${cluster.port} user=postgres dbname=${name}`;
  return { name, location, db };
}

/** A node database on the run's cluster (cloned from the template that has the schemas). */
export async function sharedNode(test: TestDatabase, name: string): Promise<Node> {
  const database = await test.createDatabase(name, { template: test.cluster.templateDatabase });
  const db = await test.connect({ database });
  const c = test.cluster;
  return { name, location: `host=${c.host} port=${c.port} user=${c.user} dbname=${database}`, db };
}

/** One node database on the run's cluster per name, in that order. */
export async function sharedNodes<const Names extends readonly string[]>(
  test: TestDatabase,
  ...names: Names
): Promise<{ [K in keyof Names]: Node }> {
  const nodes: Node[] = [];
  for (const name of names) nodes.push(await sharedNode(test, name));
  return nodes as { [K in keyof Names]: Node };
}

/**
 * The tree most takeover tests start from: `root` (worker r_worker), with the branch
 * (b_worker) and the leaf (l_worker) both reading from it; root and branch tick fast.
 */
export async function rootBranchLeaf(root: Node, branch: Node, leaf: Node, queue: string) {
  await createRoot(root, queue, 'r_worker');
  await createSubscriber(branch, root, queue, 'branch', { worker: 'b_worker' });
  await createSubscriber(leaf, root, queue, 'leaf', { worker: 'l_worker' });
  await fastTicks(root, queue);
  await fastTicks(branch, queue);
}

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.splice(0).map((close) => close().catch(() => {})));
});

/** Tick often on a root: a tick per poll of the ticker when there are events. */
export async function fastTicks(node: Node, queue: string) {
  await node.db.query(`select pgq.set_queue_config($1, 'ticker_max_lag', '0')`, [queue]);
  await node.db.query(`select pgq.set_queue_config($1, 'ticker_idle_period', '1 second')`, [queue]);
}

/** Something running in the background until stopped. */
export interface Runner {
  stop(): Promise<void>;
}

const quietError = () => {};

/** Runners to stop after the file, the last started first. */
export function useRunners(): Runner[] {
  const runners: Runner[] = [];
  afterAll(async () => {
    for (const runner of runners.splice(0).reverse()) await runner.stop();
  });
  return runners;
}

export function startWorker(node: Node, queue: string): Runner {
  const worker = new CascadedWorker({
    connection: node.location,
    queue,
    loopDelay: 0.05,
    retryDelay: 0.2,
    localWmPublishPeriod: 1,
    globalWmPublishPeriod: 1,
  });
  const abort = new AbortController();
  const done = worker.run({ signal: abort.signal }).catch(quietError);
  return {
    async stop() {
      abort.abort();
      await done;
    },
  };
}

export interface Seen {
  tick: string;
  data: string;
}

/** A cascaded consumer on `node` (registered there and on its provider) recording every event. */
export async function startAudit(
  node: Node,
  provider: Node,
  queue: string,
  consumer: string,
): Promise<Runner & { seen: Seen[] }> {
  const { rows } = await provider.db.query(
    'select last_tick_id::text as tick from pgq.get_queue_info($1)',
    [queue],
  );
  const tick = rows[0]?.tick as string;
  await provider.db.query('select pgq.register_consumer_at($1, $2, $3)', [queue, consumer, tick]);
  await node.db.query('select * from pgq_node.register_consumer($1, $2, $3, $4)', [
    queue,
    consumer,
    provider.name,
    tick,
  ]);
  return runAudit(node, queue, consumer);
}

/** Run a registered cascaded consumer, recording the data events it is given. */
export function runAudit(node: Node, queue: string, consumer: string): Runner & { seen: Seen[] } {
  const seen: Seen[] = [];
  const audit = new CascadedConsumer({
    connection: node.location,
    queue,
    consumer,
    loopDelay: 0.05,
    retryDelay: 0.2,
  });
  const abort = new AbortController();
  const done = audit
    .run(
      (event, context) => {
        if (event.type === 'data') seen.push({ tick: context.batch.tick, data: event.data ?? '' });
      },
      { signal: abort.signal },
    )
    .catch(quietError);
  return {
    seen,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

/** Force a tick on every node of `nodes` that ticks by itself (the root), every `ms`. */
export function startTicker(nodes: Node[], queue: string, ms = 100): Runner {
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const node of nodes) {
        try {
          await node.db.query(
            `select pgq.ticker(queue_name) from pgq.queue
              where queue_name = $1 and not queue_external_ticker`,
            [queue],
          );
        } catch {
          // demoted between the check and the tick, or the server is gone: next round
        }
      }
      await sleep(ms);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/**
 * Insert numbered events one at a time on whichever node takes writes, retrying on the
 * refusal of a demoted root; `committed` holds every number whose insert committed.
 */
export function startProducer(nodes: Node[], queue: string, pauseMs = 5) {
  let running = true;
  const committed: number[] = [];
  const refused = { count: 0 };
  const failures: Error[] = [];
  let next = 1;
  const loop = (async () => {
    while (running && failures.length === 0) {
      let ok = false;
      for (const node of nodes) {
        try {
          await node.db.query(`select pgq.insert_event($1, 'data', $2)`, [queue, String(next)]);
          ok = true;
          break;
        } catch (error) {
          if (/Insert into queue disallowed/.test((error as Error).message)) {
            refused.count++;
          } else {
            // Kept for the test to report, not thrown where nobody awaits it.
            failures.push(error as Error);
            break;
          }
        }
      }
      if (ok) committed.push(next++);
      await sleep(ok ? pauseMs : 20);
    }
  })();
  return {
    committed,
    refused,
    failures,
    async stop() {
      running = false;
      await loop;
    },
  };
}

export interface Captured {
  print: string[];
  info: string[];
  warn: string[];
}

/** An admin session run on `local`, its output captured. */
export function adminSession(
  local: Node,
  queue: string,
  options: { dryRun?: boolean; dead?: string[] } = {},
) {
  const captured: Captured = { print: [], info: [], warn: [] };
  const session = new AdminSession({
    queue,
    localDb: local.location,
    dryRun: options.dryRun,
    dead: options.dead,
    output: {
      print: (line) => captured.print.push(line),
      info: (line) => captured.info.push(line),
      warn: (line) => captured.warn.push(line),
    },
  });
  return { session, captured };
}

/** Run `work` with a session on `local`, closing it after. */
export async function withSession<T>(
  local: Node,
  queue: string,
  work: (session: AdminSession, captured: Captured) => Promise<T>,
  options: { dryRun?: boolean; dead?: string[] } = {},
): Promise<T> {
  const { session, captured } = adminSession(local, queue, options);
  try {
    return await work(session, captured);
  } finally {
    await session.close();
  }
}

/** Poll until `check` holds; fail naming `what` (never a time assertion, only a deadline). */
export async function waitFor(what: string, check: () => Promise<boolean>, seconds = 30) {
  const deadline = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

/** The worker's completed tick on a node. */
export async function workerTick(node: Node, queue: string): Promise<bigint> {
  const { rows } = await node.db.query(
    'select worker_last_tick::text as t from pgq_node.get_node_info($1)',
    [queue],
  );
  return BigInt(rows[0]?.t ?? '-1');
}

/** Wait until the node's worker has completed `tick`. */
export async function reachTick(node: Node, queue: string, tick: bigint) {
  await waitFor(
    `${node.name} at tick ${tick}`,
    async () => (await workerTick(node, queue)) >= tick,
  );
}

/** The node's type and provider. */
export async function nodeState(node: Node, queue: string) {
  const { rows } = await node.db.query(
    'select node_type, provider_node from pgq_node.get_node_info($1)',
    [queue],
  );
  return rows[0];
}

/**
 * Insert `values` on `node` one per statement, then wait for a tick past them (the ticker
 * runs in the background); the node's latest tick then.
 */
export async function produceTicked(node: Node, queue: string, values: string[]) {
  const before = await queueTop(node, queue);
  await insertEvents(node, queue, values);
  await waitFor('a tick after the events', async () => (await queueTop(node, queue)) > before + 1n);
  return queueTop(node, queue);
}

/** The latest tick of the node's queue. */
export async function queueTop(node: Node, queue: string): Promise<bigint> {
  const { rows } = await node.db.query(
    'select last_tick_id::text as t from pgq.get_queue_info($1)',
    [queue],
  );
  return BigInt(rows[0]?.t ?? '-1');
}

/** Data of every 'data' event in the node's queue tables, by ev_id. */
export async function queueData(node: Node, queue: string): Promise<string[]> {
  const { rows } = await node.db.query(
    'select queue_data_pfx as pfx from pgq.queue where queue_name = $1',
    [queue],
  );
  const [schema, table] = String(rows[0]?.pfx).split('.');
  const events = await node.db.query(
    `select ev_data from ${quoteIdent(schema ?? '')}.${quoteIdent(table ?? '')}
      where ev_type = 'data' order by ev_id`,
  );
  return events.rows.map((r) => r.ev_data as string);
}

/** The pgq_node tables of a node, for "nothing changed" comparisons. */
export async function nodeTables(node: Node) {
  const tables = ['node_location', 'node_info', 'local_state', 'subscriber_info'];
  const result: Record<string, unknown[]> = {};
  for (const table of tables) {
    const { rows } = await node.db.query(`select * from pgq_node.${table} order by 1, 2`);
    result[table] = rows;
  }
  const { rows } = await node.db.query(
    `select c.co_name, s.sub_last_tick::text from pgq.subscription s
       join pgq.consumer c on c.co_id = s.sub_consumer order by 1`,
  );
  result.subscriptions = rows;
  const queue = await node.db.query(
    'select queue_name, queue_disable_insert, queue_external_ticker from pgq.queue order by 1',
  );
  result.queues = queue.rows;
  return result;
}

/** Insert `data` events one per statement (each its own transaction). */
export async function insertEvents(node: Node, queue: string, values: string[]) {
  for (const value of values) {
    await node.db.query(`select pgq.insert_event($1, 'data', $2)`, [queue, value]);
  }
}

/** `prefix1` .. `prefixN`. */
export function labels(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

/** `setadm ... worker` child processes, one per node, looping every 0.1 s. */
export function startCliWorkers(admin: AdminFixture, queue: string, nodes: NodeDb[]): Worker[] {
  return nodes.map((node) => admin.startWorker([...cli(node, queue), '--set', 'loop_delay=0.1']));
}

/** Produce `events` on the root as one batch, then wait until `last`'s worker has it. */
export async function produceThrough(root: NodeDb, last: NodeDb, queue: string, events: string[]) {
  const tick = BigInt(await produceAndTick(root, queue, events));
  await poll(
    async () => lastTick(last, queue),
    (t) => t >= tick,
  );
}
