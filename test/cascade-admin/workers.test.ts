/**
 * The commands that need running workers: pause / resume acknowledged by a live worker,
 * change-provider of a leaf (its worker and a cascaded consumer on it) from the branch to the
 * root under a steady producer, wait-root / wait-provider, and the timeout paths once the
 * workers are gone.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { CascadedConsumer } from '../../src/cascade/cascaded-consumer.js';
import { useTestDatabase } from '../harness/database.js';
import {
  buildTree,
  cli,
  lastTick,
  type NodeDb,
  nodeDb,
  poll,
  produceAndTick,
  useAdmin,
  type Worker,
} from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();
const queue = 'events';

/** Produces a few events and a tick on the root every few ms until stopped. */
function steadyProducer(root: NodeDb) {
  let stop = false;
  let produced = 0;
  const done = (async () => {
    while (!stop) {
      const batch = Array.from({ length: 5 }, () => `e${++produced}`);
      await produceAndTick(root, queue, batch);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    get produced() {
      return produced;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

describe('setadm with running workers', () => {
  let root: NodeDb;
  let branch: NodeDb;
  let leaf: NodeDb;
  let branchWorker: Worker;
  let leafWorker: Worker;
  const consumerStop = new AbortController();
  let consumerRun: Promise<void> | undefined;
  afterAll(async () => {
    consumerStop.abort();
    await consumerRun;
  });

  it('pause and resume wait until the worker acknowledged', async () => {
    root = await nodeDb(test, 'root');
    branch = await nodeDb(test, 'branch');
    leaf = await nodeDb(test, 'leaf');
    await buildTree(admin, queue, root, branch, leaf);
    branchWorker = admin.startWorker([...cli(branch, queue), '--set', 'loop_delay=0.1']);
    leafWorker = admin.startWorker([...cli(leaf, queue), '--set', 'loop_delay=0.1']);
    const tick = BigInt(await produceAndTick(root, queue, ['a', 'b']));
    await poll(
      () => lastTick(leaf, queue),
      (t) => t >= tick,
    );

    const paused = await admin.run([
      ...cli(root, queue),
      'pause',
      '--node',
      'branch',
      '--timeout',
      '20',
    ]);
    expect(paused.stderr).toContain('branch: consumer branch_worker acknowledged pause');
    expect(paused.code).toBe(0);
    const info = await admin.run([...cli(branch, queue), 'node-info']);
    expect(info.stdout).toContain('Status: PAUSED\n');
    const status = await admin.run([...cli(root, queue), 'status']);
    expect(status.stdout).toMatch(/\+--branch \(branch\)\n {3}\| {2}.*Tick: \d+, PAUSED\n/);
    // A paused branch copies nothing.
    const before = await lastTick(branch, queue);
    const next = BigInt(await produceAndTick(root, queue, ['c']));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await lastTick(branch, queue)).toBe(before);

    const resumed = await admin.run([
      ...cli(root, queue),
      'resume',
      '--node',
      'branch',
      '--timeout',
      '20',
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('acknowledged resume');
    await poll(
      () => lastTick(leaf, queue),
      (t) => t >= next,
    );
  });

  it('wait-provider and wait-root return once the leaf passed the tick they saw', async () => {
    const producer = steadyProducer(root);
    try {
      const provider = await admin.run([...cli(leaf, queue), 'wait-provider', '--timeout', '30']);
      expect(provider.code).toBe(0);
      expect(provider.stdout).toMatch(/^node leaf at tick \d+, caught up with provider branch\n$/);
      const rootWait = await admin.run([...cli(leaf, queue), 'wait-root', '--timeout', '30']);
      expect(rootWait.code).toBe(0);
      expect(rootWait.stdout).toMatch(/caught up with root root\n$/);
      // An event the root has not ticked yet: wait-root waits for the tick that carries it.
      await producer.stop();
      await root.db.query(`select pgq.insert_event($1, 'data', 'untick')`, [queue]);
      const pending = admin.start([...cli(leaf, queue), 'wait-root', '--timeout', '30']);
      await poll(
        async () => pending.stderr(),
        (text) => text.includes('waiting for node leaf'),
      );
      const tick = BigInt(await produceAndTick(root, queue, []));
      const waited = await pending.done;
      expect(waited.stderr).toMatch(
        /waiting for node leaf to reach tick \d+ of root root \(1 events not ticked yet\)/,
      );
      expect(waited.code).toBe(0);
      expect(await lastTick(leaf, queue)).toBeGreaterThanOrEqual(tick);
      const onRoot = await admin.run([...cli(root, queue), 'wait-root']);
      expect(onRoot.stdout).toBe('node root is the root, no need to wait\n');
    } finally {
      await producer.stop();
    }
  });

  it('change-provider moves the leaf and a cascaded consumer to the root: every event once', async () => {
    await leaf.db.query('create table seen (ev_id bigint, data text)');
    const options = { connection: leaf.connstr, queue, consumer: 'c1', loopDelay: 0.1 };
    await CascadedConsumer.register(options);
    const consumer = new CascadedConsumer(options);
    consumerRun = consumer.run(
      async (event, ctx) => {
        await ctx.target.query('insert into seen values ($1, $2)', [event.id, event.data]);
      },
      { signal: consumerStop.signal },
    );
    const start = await produceAndTick(root, queue, []);
    const producer = steadyProducer(root);
    let produced: number;
    try {
      await poll(
        async () => (await leaf.db.query('select count(*)::int as n from seen')).rows[0].n,
        (n) => n >= 10,
      );
      const moveConsumer = await admin.run([
        ...cli(leaf, queue),
        'change-provider',
        '--consumer',
        'c1',
        '--provider',
        'root',
        '--timeout',
        '20',
      ]);
      expect(moveConsumer.stdout).toBe('leaf: consumer c1 now reads from root\n');
      expect(moveConsumer.code).toBe(0);
      const moveWorker = await admin.run([
        ...cli(root, queue),
        'change-provider',
        '--node',
        'leaf',
        '--provider',
        'root',
        '--timeout',
        '20',
      ]);
      expect(moveWorker.stdout).toBe('leaf: consumer leaf_worker now reads from root\n');
      expect(moveWorker.code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await producer.stop();
      produced = producer.produced;
    }
    const end = BigInt(await produceAndTick(root, queue, []));
    expect(end).toBeGreaterThan(BigInt(start));
    const rows = await poll(
      async () =>
        (
          await leaf.db.query(
            'select count(*)::int as n, count(distinct ev_id)::int as d from seen',
          )
        ).rows[0],
      (r) => r.n >= produced,
    );
    expect(rows).toEqual({ n: produced, d: produced });
    const data = await leaf.db.query('select data from seen order by ev_id');
    expect(data.rows.map((r) => r.data)).toEqual(
      Array.from({ length: produced }, (_, i) => `e${i + 1}`),
    );
    await poll(
      () => lastTick(leaf, queue),
      (t) => t >= end,
    );
    // The leaf is now the root's subscriber, no longer the branch's.
    const rootSubs = await root.db.query('select node_name from pgq_node.get_subscriber_info($1)', [
      queue,
    ]);
    expect(rootSubs.rows.map((r) => r.node_name).sort()).toEqual(['branch', 'leaf']);
    const branchSubs = await branch.db.query('select * from pgq_node.get_subscriber_info($1)', [
      queue,
    ]);
    expect(branchSubs.rows).toEqual([]);
    const c1 = await branch.db.query(
      `select 1 from pgq.get_consumer_info($1) where consumer_name = 'c1'`,
      [queue],
    );
    expect(c1.rows).toEqual([]);
    const status = await admin.run([...cli(leaf, queue), 'status']);
    expect(status.stdout).toMatch(/^\+--leaf \(leaf\)$/m);
  });

  it('without a running worker, pause, wait-root and change-provider give up with a clear error', async () => {
    consumerStop.abort();
    await consumerRun;
    expect(await admin.stopWorker(leafWorker)).toBe(0);
    expect(await admin.stopWorker(branchWorker)).toBe(0);
    await produceAndTick(root, queue, ['late']);
    const wait = await admin.run([...cli(leaf, queue), 'wait-root', '--timeout', '1']);
    expect(wait.code).toBe(1);
    expect(wait.stderr).toMatch(
      /setadm: error: node leaf did not reach tick \d+ of root root within 1 s \(at tick \d+; is its worker running/,
    );
    const before = await leaf.db.query('select * from pgq_node.local_state order by 2');
    // change-provider undoes its pause when the worker does not acknowledge: nothing changed.
    const move = await admin.run([
      ...cli(leaf, queue),
      'change-provider',
      '--provider',
      'branch',
      '--timeout',
      '1',
    ]);
    expect(move.code).toBe(1);
    expect(move.stderr).toContain(
      'setadm: error: consumer leaf_worker on node leaf did not acknowledge pause within 1 s (is its worker running?)',
    );
    const after = await leaf.db.query('select * from pgq_node.local_state order by 2');
    expect(after.rows.map((r) => ({ ...r, uptodate: null }))).toEqual(
      before.rows.map((r) => ({ ...r, uptodate: null })),
    );
    const pause = await admin.run([...cli(leaf, queue), 'pause', '--timeout', '1']);
    expect(pause.code).toBe(1);
    expect(pause.stderr).toContain('did not acknowledge pause within 1 s');
    expect(pause.stderr).toContain('its worker takes it on its next loop');
  });
});
