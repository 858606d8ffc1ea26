/**
 * What takeover refuses, and that a refusal or a dry run changes nothing: an unknown old
 * node, a failover onto a root that still answers, a lagging new node (until --force), bad
 * switch combinations; the step runner's report when a step fails midway.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resurrect } from '../../src/cascade/admin/resurrect.js';
import { takeover } from '../../src/cascade/admin/takeover.js';
import { runSteps, TakeoverError } from '../../src/cascade/admin/takeover-steps.js';
import { CascadeError } from '../../src/cascade/node-calls.js';
import { useTestDatabase } from '../harness/database.js';
import { type Node, nodeDatabase, produceAndTick, workerStep } from '../pgq_node/node-helpers.js';
import {
  adminSession,
  createRoot,
  createSubscriber,
  nodeTables,
  startWorker,
  useRunners,
  waitFor,
  withSession,
  workerTick,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'Refuse "q"';
let root: Node;
let branch: Node;
let leaf: Node;
const runners = useRunners();

beforeAll(async () => {
  root = await nodeDatabase(test, 'root');
  branch = await nodeDatabase(test, 'branch', 'branch');
  leaf = await nodeDatabase(test, 'leaf', 'leaf');
  // Locations with the cluster's address, so the admin session can reach every node.
  for (const node of [root, branch, leaf]) {
    Object.assign(node, { location: `${hostPart()} ${node.location}` });
  }
  await createRoot(root, queue);
  await createSubscriber(branch, root, queue, 'branch');
  await createSubscriber(leaf, root, queue, 'leaf', { root });
  await produceAndTick(root, queue, ['a', 'b']);
  await catchUp();
});

function hostPart() {
  const c = test.cluster;
  return `host=${c.host} port=${c.port} user=${c.user}`;
}

async function catchUp() {
  while (await workerStep(branch, root, queue)) {}
  while (await workerStep(leaf, root, queue)) {}
}

async function allTables() {
  return Promise.all([root, branch, leaf].map((node) => nodeTables(node)));
}

/** Expect `work` to fail with a CascadeError of `code` whose message matches, changing nothing. */
async function refusedUnchanged(work: () => Promise<unknown>, code: string, message: RegExp) {
  const before = await allTables();
  const error = await work().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CascadeError);
  expect((error as CascadeError).code).toBe(code);
  expect((error as Error).message).toMatch(message);
  expect(await allTables()).toEqual(before);
}

describe('takeover refusals', () => {
  it('an unknown old node: names the members, changes nothing', async () => {
    await withSession(branch, queue, (session) =>
      refusedUnchanged(
        () => takeover(session, { oldNode: 'nosuch' }),
        'UNKNOWN_NODE',
        /node nosuch is not a member of queue Refuse "q" \(members: branch, leaf, root\)/,
      ),
    );
  });

  it('--dead-root while the root still answers: refuses, changes nothing', async () => {
    await withSession(branch, queue, (session) =>
      refusedUnchanged(
        () => takeover(session, { oldNode: 'root', deadRoot: true }),
        'OLD_NODE_ALIVE',
        /node root still answers.*switchover/,
      ),
    );
  });

  it('bad combinations: both dead switches, itself, a leaf as the new node', async () => {
    await withSession(branch, queue, async (session) => {
      await refusedUnchanged(
        () => takeover(session, { oldNode: 'root', deadRoot: true, deadBranch: true }),
        'BAD_OPTIONS',
        /exclude each other/,
      );
      await refusedUnchanged(
        () => takeover(session, { oldNode: 'branch' }),
        'SELF_TAKEOVER',
        /itself/,
      );
    });
    await withSession(leaf, queue, (session) =>
      refusedUnchanged(() => takeover(session, { oldNode: 'root' }), 'LEAF_TAKEOVER', /is a leaf/),
    );
  });

  it('resurrect on a root that was never failed over, or on a leaf: refuses, changes nothing', async () => {
    const dumpFile = path.join(tmpdir(), `skytools-never-written-${process.pid}.json`);
    await withSession(root, queue, async (session) => {
      await refusedUnchanged(
        () => resurrect(session, { dumpFile }),
        'NO_GRAVESTONE',
        /no member has consumer root\.gravestone \(tried: branch, leaf\)/,
      );
      await refusedUnchanged(
        () => resurrect(session, { dumpFile: '/nonexistent/dir/lost.json' }),
        'DUMP_NOT_WRITABLE',
        /cannot write the dump file \/nonexistent\/dir\/lost\.json/,
      );
    });
    expect(existsSync(dumpFile)).toBe(false);
    await withSession(leaf, queue, (session) =>
      refusedUnchanged(() => resurrect(session, {}), 'LEAF_RESURRECT', /is a leaf/),
    );
  });

  it('--dry-run prints the switchover plan and changes nothing', async () => {
    const before = await allTables();
    const printed = await withSession(
      branch,
      queue,
      async (session, captured) => {
        await takeover(session, { oldNode: 'root' });
        return captured.print;
      },
      { dryRun: true },
    );
    expect(await allTables()).toEqual(before);
    const plan = printed.join('\n');
    expect(plan).toMatch(/\[dry-run\] on root: select \* from pgq_node\.set_consumer_paused/);
    expect(plan).toMatch(
      /\[dry-run\] on root: select \* from pgq_node\.demote_root\(\$1, 1, \$2\)/,
    );
    expect(plan).toMatch(/\[dry-run\] on branch: select \* from pgq_node\.promote_branch/);
    expect(plan).toMatch(
      /\[dry-run\] on root: select \* from pgq_node\.demote_root\(\$1, 3, \$2\)/,
    );
    expect(plan.indexOf('promote_branch')).toBeLessThan(plan.indexOf('demote_root($1, 3'));
  });

  it('onto a lagging node: refuses naming both ticks, changes nothing; --force proceeds', async () => {
    for (let i = 0; i < 3; i++) await produceAndTick(root, queue, [`lag ${i}`]);
    const branchAt = await workerTick(branch, queue);
    const rootAt = await workerTick(root, queue);
    // The branch's position is a minute old: as if its worker had stopped that long ago.
    await root.db.query(
      `update pgq.tick set tick_time = tick_time - interval '1 minute'
        where tick_queue = (select queue_id from pgq.queue where queue_name = $1)
          and tick_id <= $2`,
      [queue, String(branchAt)],
    );
    await withSession(branch, queue, (session) =>
      refusedUnchanged(
        () => takeover(session, { oldNode: 'root' }),
        'NOT_CAUGHT_UP',
        new RegExp(
          `node branch is not caught up with root: its worker has completed tick ${branchAt}, root is at tick ${rootAt} .*--force`,
        ),
      ),
    );

    // A worker with an error is refused too, whatever its position.
    await branch.db.query(`select * from pgq_node.set_consumer_error($1, 'branch_worker', $2)`, [
      queue,
      'copy failed: disk full\nsecond line',
    ]);
    await withSession(branch, queue, (session) =>
      refusedUnchanged(
        () => takeover(session, { oldNode: 'root' }),
        'NOT_CAUGHT_UP',
        /the worker of node branch has an error: copy failed: disk full; node branch is not caught up/,
      ),
    );

    for (const node of [root, branch, leaf]) runners.push(startWorker(node, queue));
    const warned = await withSession(branch, queue, async (session, captured) => {
      await takeover(session, { oldNode: 'root', force: true });
      return captured.warn;
    });
    expect(warned.join('\n')).toMatch(/not caught up.*going on \(--force\)/);
    await waitFor('the branch to be root', async () => {
      const { rows } = await branch.db.query('select node_type from pgq_node.get_node_info($1)', [
        queue,
      ]);
      return rows[0]?.node_type === 'root';
    });
    expect(await workerTick(branch, queue)).toBeGreaterThan(rootAt);
  });
});

describe('a step that fails midway', () => {
  it('reports the done steps, the remaining ones to run by hand, and how to undo', async () => {
    const { session, captured } = adminSession(branch, queue);
    const ran: string[] = [];
    const error = await runSteps(session, 'demo', [
      {
        title: 'first',
        run: async () => void ran.push('first'),
        undo: () => 'undo first',
      },
      {
        title: 'second',
        run: async () => {
          throw new Error('boom');
        },
        manual: () => 'do second by hand',
      },
      { title: 'third', run: async () => void ran.push('third'), manual: () => 'do third' },
    ]).catch((e: unknown) => e);
    await session.close();
    expect(error).toBeInstanceOf(TakeoverError);
    expect((error as Error).message).toMatch(/demo stopped at step 2\/3 \(second\): boom; 1 step/);
    expect(ran).toEqual(['first']);
    expect(captured.warn).toEqual([
      'demo failed; the cascade is partly changed.',
      'Steps done:',
      '  done: first',
      'To finish, fix the cause and run the remaining steps in this order:',
      '  do second by hand',
      '  do third',
      'Or, to undo what was done, in this order:',
      '  undo first',
    ]);
  });
});
