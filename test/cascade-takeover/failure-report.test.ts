/**
 * Switchovers that fail midway, for real, through a lock_timeout on the old root's
 * database. Before the promote: a producer holds its transaction open, so demote step 2
 * (which waits for producers) gives up; the undo lines of the report, run as printed (SQL on
 * the named node, setadm through the bin), must leave a cascade the same takeover then
 * succeeds on. After the promote: a lock on the old provider's subscriber table makes the
 * unregister step give up; the report must say to finish, and its finish lines, run as
 * printed, must complete the switchover.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { takeover } from '../../src/cascade/admin/takeover.js';
import { TakeoverError } from '../../src/cascade/admin/takeover-steps.js';
import { quoteIdent } from '../../src/db/quote.js';
import { useTestDatabase } from '../harness/database.js';
import type { Node } from '../pgq_node/node-helpers.js';
import {
  createRoot,
  createSubscriber,
  insertEvents,
  queueTop,
  sharedNode,
  startWorker,
  useRunners,
  waitFor,
  withSession,
  workerTick,
} from './helpers.js';

const test = useTestDatabase();
const queue = 'reportq';
let root: Node;
let branch: Node;
const runners = useRunners();
const bin = path.resolve(import.meta.dirname, '../../bin/setadm.js');

beforeAll(async () => {
  root = await sharedNode(test, 'root');
  branch = await sharedNode(test, 'branch');
  await createRoot(root, queue);
  await createSubscriber(branch, root, queue, 'branch');
});

function setadm(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

const nodes = () => ({ root, branch }) as Record<string, Node>;

/** Run one printed line: `on node N: SQL;` on N, or `setadm <config.ini> ARGS` through the bin. */
async function runLine(line: string) {
  const sql = /^on node (\S+): (.*)$/.exec(line);
  if (sql) {
    const node = nodes()[sql[1] as string] as Node;
    await node.db.query(sql[2] as string);
    return;
  }
  const cmd = /^setadm <config\.ini> (.*)$/.exec(line);
  if (!cmd) throw new Error(`not a runnable line: ${line}`);
  const target = /--node (\S+)/.exec(line)?.[1] as string;
  const result = await setadm([
    '--db',
    (nodes()[target] as Node).location,
    '--queue',
    queue,
    ...(cmd[1] as string).split(' '),
  ]);
  expect(result.stderr).not.toMatch(/error/);
  expect(result.code).toBe(0);
}

describe('a switchover that fails midway', () => {
  it('reports what was done and how to undo it; the undo lines work as printed', async () => {
    for (const node of [root, branch]) runners.push(startWorker(node, queue));
    await insertEvents(root, queue, ['a']);
    await root.db.query('select pgq.force_tick($1)', [queue]);
    await root.db.query('select pgq.ticker($1)', [queue]);
    const top = await queueTop(root, queue);
    await waitFor('the branch to copy', async () => (await workerTick(branch, queue)) >= top);

    const { rows } = await root.db.query('select current_database() as d');
    const database = quoteIdent(rows[0]?.d as string);
    await root.db.query(`alter database ${database} set lock_timeout = '300ms'`);
    // A producer in the middle of its transaction: demote step 2 has to wait for it.
    const producer = await test.connect({ database: rows[0]?.d as string });
    await producer.query('begin');
    await producer.query(`select pgq.insert_event($1, 'data', 'in flight')`, [queue]);

    const { error, warn } = await withSession(branch, queue, async (session, captured) => {
      const error = await takeover(session, { oldNode: 'root' }).catch((e: unknown) => e);
      return { error, warn: captured.warn };
    });
    await producer.query('commit');
    await root.db.query(`alter database ${database} reset lock_timeout`);

    expect(error).toBeInstanceOf(TakeoverError);
    expect((error as Error).message).toMatch(
      /switchover root -> branch stopped at step 3\/11 \(demote root, step 2: insert the last tick\): .*lock timeout.*; 2 step\(s\) were done/,
    );
    expect(warn).toContain('  done: pause the worker of old root root');
    expect(warn).toContain('  done: demote root, step 1: disable writes');
    expect(warn).toContain(
      `  on node root: select * from pgq_node.demote_root('${queue}', 2, 'branch');`,
    );
    expect(warn).toContain(`  on node branch: select * from pgq_node.promote_branch('${queue}');`);
    const undoFrom = warn.indexOf('Or, to undo what was done, in this order:');
    expect(undoFrom).toBeGreaterThan(0);
    const undo = warn.slice(undoFrom + 1).map((line) => line.trim());
    expect(undo).toHaveLength(2);

    for (const line of undo) await runLine(line);
    // Undone: the root takes writes again and its worker runs.
    await insertEvents(root, queue, ['after undo']);
    const { rows: state } = await root.db.query(
      'select node_type, worker_paused from pgq_node.get_node_info($1)',
      [queue],
    );
    expect(state[0]).toEqual({ node_type: 'root', worker_paused: false });

    // And the takeover now goes through.
    await withSession(branch, queue, (session) => takeover(session, { oldNode: 'root' }));
    const { rows: after } = await branch.db.query(
      'select node_type from pgq_node.get_node_info($1)',
      [queue],
    );
    expect(after[0]?.node_type).toBe('root');
  });

  it('after the promote: the report says finish, and the finish lines work as printed', async () => {
    // Now `branch` is the root and `root` its branch; switch back, with the old provider's
    // subscriber table locked so that "unregister from the old provider" times out.
    const top = await queueTop(branch, queue);
    await waitFor('root to copy', async () => (await workerTick(root, queue)) >= top);
    const { rows } = await branch.db.query('select current_database() as d');
    const database = quoteIdent(rows[0]?.d as string);
    await branch.db.query(`alter database ${database} set lock_timeout = '300ms'`);
    const locker = await test.connect({ database: rows[0]?.d as string });
    await locker.query('begin');
    await locker.query('lock table pgq_node.subscriber_info in exclusive mode');

    const { error, warn } = await withSession(root, queue, async (session, captured) => {
      const error = await takeover(session, { oldNode: 'branch' }).catch((e: unknown) => e);
      return { error, warn: captured.warn };
    });
    await locker.query('rollback');
    await branch.db.query(`alter database ${database} reset lock_timeout`);

    expect((error as Error).message).toMatch(
      /switchover branch -> root stopped at step 8\/11 \(unregister root from its old provider branch\)/,
    );
    expect(warn).toContain('  done: promote root to root');
    expect(warn).toContain(
      'The new root is already promoted: finish the steps above rather than undo them.',
    );
    expect(warn.some((line) => line.startsWith('Or, to undo'))).toBe(false);
    const from = warn.indexOf(
      'To finish, fix the cause and run the remaining steps in this order:',
    );
    const to = warn.indexOf(
      'The new root is already promoted: finish the steps above rather than undo them.',
    );
    const finish = warn.slice(from + 1, to).map((line) => line.trim());
    expect(finish).toEqual([
      `on node branch: select * from pgq_node.unregister_subscriber('${queue}', 'root');`,
      'setadm <config.ini> resume --node root',
      `on node branch: select * from pgq_node.demote_root('${queue}', 3, 'root');`,
      'setadm <config.ini> resume --node branch',
    ]);
    for (const line of finish) await runLine(line);

    const info = async (node: Node) =>
      (
        await node.db.query(
          'select node_type, provider_node, worker_paused from pgq_node.get_node_info($1)',
          [queue],
        )
      ).rows[0];
    expect(await info(root)).toEqual({
      node_type: 'root',
      provider_node: 'root',
      worker_paused: false,
    });
    expect(await info(branch)).toEqual({
      node_type: 'branch',
      provider_node: 'root',
      worker_paused: false,
    });
    // Finished: events flow from the new root again.
    await insertEvents(root, queue, ['finished']);
    await root.db.query('select pgq.force_tick($1)', [queue]);
    await root.db.query('select pgq.ticker($1)', [queue]);
    const last = await queueTop(root, queue);
    await waitFor(
      'branch to copy from the new root',
      async () => (await workerTick(branch, queue)) >= last,
    );
  });
});
