/**
 * Cascade nodes for the worker and consumer tests: a node is a database (on the run's
 * cluster or on an extra one) with pgq and pgq_node, made into root/branch/leaf with the
 * SQL calls the admin tool makes (test/pgq_node/node-helpers.ts); the Node worker and
 * consumer under test then run against them.
 */
import pg from 'pg';
import { afterAll } from 'vitest';
import { CascadedWorker } from '../../src/cascade/index.js';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent, quoteQualified } from '../../src/db/quote.js';
import type { Cluster } from '../../src/pg/index.js';
import type { Logger } from '../../src/pgq/logger.js';
import type { TestDatabase } from '../harness/database.js';
import { createRoot, createSubscriber, type Node } from '../pgq_node/node-helpers.js';

export { one, ret } from '../pgq_node/node-helpers.js';
export { createRoot, createSubscriber };

export interface TestNode extends Node {
  readonly config: pg.ClientConfig;
}

function locationOf(config: pg.ClientConfig): string {
  return `host=${config.host} port=${config.port} user=${config.user} dbname=${config.database}`;
}

/** A node database on the run's cluster (cloned from the template: schemas installed). */
export async function sharedNode(test: TestDatabase, name: string, suffix?: string) {
  const database = suffix
    ? await test.createDatabase(suffix, { template: test.cluster.templateDatabase })
    : test.name;
  const config = test.config({ database });
  const db = await test.connect({ database });
  return { name, config, location: locationOf(config), db } satisfies TestNode;
}

/**
 * One node per name on the run's cluster: the first in the file's own database, each other
 * in a database of its own named after it.
 */
export async function sharedNodes<const Names extends readonly string[]>(
  test: TestDatabase,
  ...names: Names
): Promise<{ [K in keyof Names]: TestNode }> {
  const nodes: TestNode[] = [];
  for (const [i, name] of names.entries()) {
    nodes.push(await (i === 0 ? sharedNode(test, name) : sharedNode(test, name, name)));
  }
  return nodes as { [K in keyof Names]: TestNode };
}

/**
 * The chain nodes[0] -> nodes[1] -> ...: the first node the root, each other a subscriber of
 * the one before it, a branch but for the last, which is `last`. Returns the start position
 * the first subscriber was registered at.
 */
export async function createChain(
  queue: string,
  nodes: readonly TestNode[],
  last: 'branch' | 'leaf' = 'branch',
): Promise<string> {
  const [root, ...subscribers] = nodes;
  if (root === undefined) throw new Error('a chain needs a root');
  await createRoot(root, queue);
  let start = '';
  let provider = root;
  for (const [i, node] of subscribers.entries()) {
    const type = i === subscribers.length - 1 ? last : 'branch';
    const at = await createSubscriber(node, provider, queue, type, { root });
    if (i === 0) start = at;
    provider = node;
  }
  return start;
}

/**
 * Workers for loop-by-loop tests (runOnce) that publish watermarks on every loop; `made`
 * holds them in the order made; all are closed after the file.
 */
export function useLoopWorkers() {
  const made: CascadedWorker[] = [];
  afterAll(async () => {
    await Promise.all(made.map((w) => w.close()));
  });
  const worker = (node: TestNode, queue: string) => {
    const w = new CascadedWorker({
      connection: node.config,
      queue,
      globalWmPublishPeriod: 0,
      localWmPublishPeriod: 0,
    });
    made.push(w);
    return w;
  };
  return { made, worker };
}

/** Run each worker's loop once, round after round, until none has a batch left. */
export async function drain(...workers: CascadedWorker[]) {
  for (let busy = true; busy; ) {
    busy = false;
    for (const w of workers) if (await w.runOnce()) busy = true;
  }
}

/** A node database on an extra cluster, with pgq and pgq_node installed by our installer. */
export async function clusterNode(cluster: Cluster, name: string): Promise<TestNode> {
  const admin = new pg.Client(cluster.connectionConfig());
  await admin.connect();
  try {
    await admin.query(`create database ${quoteIdent(name)}`);
  } finally {
    await admin.end();
  }
  const config = { ...cluster.connectionConfig(name), application_name: 'skytools-test' };
  const db = new pg.Client(config);
  db.on('error', () => {});
  await db.connect();
  await installSchemas(db, ['pgq', 'pgq_node']);
  return { name, config, location: locationOf(config), db };
}

/** Wait for a condition with a generous deadline; never a timing assertion. */
export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
  pollMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Something with run({ signal }) kept running in the background until `stop()`. */
export function background(run: (signal: AbortSignal) => Promise<void>) {
  const controller = new AbortController();
  let failure: unknown = null;
  const done = run(controller.signal).catch((error) => {
    failure = error;
  });
  return {
    async stop() {
      controller.abort();
      await done;
      if (failure !== null) throw failure;
    },
  };
}

/** A logger that keeps what was said, for asserting errors the library logged. */
export function memoryLogger(): Logger & { lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg = '') =>
      lines.push({ level, msg, obj });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Latest tick id of a local queue. */
export async function queueTop(db: pg.ClientBase, queue: string): Promise<string> {
  const { rows } = await db.query('select last_tick_id::text as t from pgq.get_queue_info($1)', [
    queue,
  ]);
  return rows[0]?.t as string;
}

/** Force a tick on the root (force_tick, so even one event makes a batch); the tick id. */
export async function tickRoot(db: pg.ClientBase, queue: string): Promise<string> {
  await db.query('select pgq.force_tick($1)', [queue]);
  const { rows } = await db.query('select pgq.ticker($1)::text as t', [queue]);
  return rows[0]?.t as string;
}

/** The worker position (completed tick) of the node's worker. */
export async function completedTick(db: pg.ClientBase, queue: string): Promise<string> {
  const { rows } = await db.query(
    'select completed_tick::text as t from pgq_node.get_worker_state($1)',
    [queue],
  );
  return rows[0]?.t as string;
}

/** Ticks of a node's local queue from `after` on: id, time and event position. */
export async function ticks(db: pg.ClientBase, queue: string, after: string) {
  const { rows } = await db.query(
    `select t.tick_id::text, t.tick_time::text, t.tick_event_seq::text
       from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
      where q.queue_name = $1 and t.tick_id > $2 order by t.tick_id`,
    [queue, after],
  );
  return rows;
}

/** Events of a node's local queue, in id order. */
export async function queueEvents(db: pg.ClientBase, queue: string) {
  const prefix = await db.query('select queue_data_pfx as p from pgq.queue where queue_name = $1', [
    queue,
  ]);
  const [schema, table] = String(prefix.rows[0]?.p).split('.') as [string, string];
  const { rows } = await db.query(
    `select e.ev_id::text, e.ev_time::text, e.ev_retry, e.ev_type, e.ev_data, e.ev_extra1,
            e.ev_extra2, e.ev_extra3, e.ev_extra4
       from ${quoteQualified(schema, table)} e order by e.ev_id`,
  );
  return rows;
}

/** Every batch of the queue from `from` on, as [end tick, event ids], read by a probe. */
export async function batches(db: pg.ClientBase, queue: string, from: string) {
  const result: [string, string[]][] = [];
  await db.query(`select pgq.register_consumer_at($1, 'probe', $2)`, [queue, from]);
  try {
    for (;;) {
      const { rows } = await db.query(
        `select batch_id, cur_tick_id::text from pgq.next_batch_info($1, 'probe')`,
        [queue],
      );
      const batch = rows[0];
      if (batch?.batch_id == null) return result;
      const events = await db.query(
        'select e.ev_id::text as id from pgq.get_batch_events($1) e order by e.ev_id',
        [batch.batch_id],
      );
      result.push([batch.cur_tick_id, events.rows.map((r) => r.id)]);
      await db.query('select pgq.finish_batch($1)', [batch.batch_id]);
    }
  } finally {
    await db.query(`select pgq.unregister_consumer($1, 'probe')`, [queue]);
  }
}
