/**
 * takeover through the real `setadm` bin (built by `npm run build`), with the workers as
 * `setadm ... worker` child processes: a dry run prints the plan and exits 0, a switchover
 * prints its steps on stderr and exits 0, and after the old root's worker is killed (-9) a
 * takeover back onto the now lagging node exits 1 with one line naming both ticks.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildTree,
  cli,
  type NodeDb,
  nodeDb,
  produceAndTick,
  useAdmin,
  type Worker,
} from '../cascade-admin/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { produceThrough, startCliWorkers } from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();
const queue = 'cliq';
const workers: Worker[] = [];

afterAll(async () => {
  for (const worker of workers) await admin.stopWorker(worker);
});

async function info(node: NodeDb) {
  const { rows } = await node.db.query(
    `select node_type, provider_node, worker_last_tick::text as tick
       from pgq_node.get_node_info($1)`,
    [queue],
  );
  return rows[0] as { node_type: string; provider_node: string; tick: string };
}

describe('setadm takeover', () => {
  it('dry run, switchover, and a refusal onto a lagging node', async () => {
    const root = await nodeDb(test, 'root');
    const branch = await nodeDb(test, 'branch');
    const leaf = await nodeDb(test, 'leaf');
    await buildTree(admin, queue, root, branch, leaf);
    workers.push(...startCliWorkers(admin, queue, [root, branch, leaf]));
    const rootWorker = workers[0] as Worker;
    await produceThrough(root, leaf, queue, ['a', 'b']);

    const dry = await admin.run([...cli(branch, queue), 'takeover', 'root', '--dry-run']);
    expect(dry.stderr).not.toMatch(/error/);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/\[dry-run\] on root: select \* from pgq_node\.demote_root/);
    expect(dry.stdout).toMatch(/\[dry-run\] on branch: select \* from pgq_node\.promote_branch/);
    expect(await info(root)).toMatchObject({ node_type: 'root' });
    expect(await info(branch)).toMatchObject({ node_type: 'branch', provider_node: 'root' });

    const switched = await admin.run([...cli(branch, queue), 'takeover', 'root']);
    expect(switched.stderr).toMatch(/switchover root -> branch: step 1\/\d+: pause the worker/);
    expect(switched.stderr).toMatch(/switchover root -> branch: done/);
    expect(switched.code).toBe(0);
    expect(await info(branch)).toMatchObject({ node_type: 'root', provider_node: 'branch' });
    expect(await info(root)).toMatchObject({ node_type: 'branch', provider_node: 'branch' });

    // The old root's worker dies; the new root goes on, so the old root falls behind.
    rootWorker.child.kill('SIGKILL');
    await rootWorker.exited;
    let top = '';
    for (let i = 0; i < 3; i++) top = await produceAndTick(branch, queue, [`late ${i}`]);
    const behind = (await info(root)).tick;
    // Its position is a minute old, as if the worker had been gone that long.
    await branch.db.query(
      `update pgq.tick set tick_time = tick_time - interval '1 minute'
        where tick_queue = (select queue_id from pgq.queue where queue_name = $1)
          and tick_id <= $2`,
      [queue, behind],
    );
    const refused = await admin.run([...cli(root, queue), 'takeover', 'branch']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `error: .*node root is not caught up with branch: its worker has completed tick ${behind}, branch is at tick ${top} .*--force`,
      ),
    );
    expect(await info(branch)).toMatchObject({ node_type: 'root' });
    expect(await info(root)).toMatchObject({ node_type: 'branch', tick: behind });
  });
});
