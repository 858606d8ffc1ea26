/**
 * A branch's worker killed with SIGKILL in the middle of copying a batch, again and again,
 * then run to the end: the branch holds every root event once with the same ids and every
 * root tick, so its batches are the root's. The same for a CascadedConsumer: every event
 * applied once in its target. Also the narrow window between the copy's commit and the
 * tick, made by hand: the next loop makes the missing tick again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CascadedConsumer, CascadedWorker } from '../../src/cascade/index.js';
import { useTestDatabase } from '../harness/database.js';
import {
  batches,
  completedTick,
  createChain,
  queueEvents,
  queueTop,
  sharedNodes,
  type TestNode,
  tickRoot,
  ticks,
  waitFor,
} from './helpers.js';

const test = useTestDatabase();
const workerChild = fileURLToPath(new URL('./fixtures/worker-child.mjs', import.meta.url));
const consumerChild = fileURLToPath(new URL('./fixtures/consumer-child.mjs', import.meta.url));
const stress = process.env.SKYTOOLS_STRESS === '1';
const tickCount = stress ? 60 : 20;
// Events of ~400 bytes, 2000 a tick: each copy lasts long enough to be caught and killed.
const perTick = 2000;
const kills = stress ? 20 : 5;
const queue = 'kq';

let root: TestNode;
let branch: TestNode;
let start: string;

beforeAll(async () => {
  [root, branch] = await sharedNodes(test, 'root', 'branch');
  start = await createChain(queue, [root, branch]);
  for (let t = 0; t < tickCount; t++) {
    await root.db.query(
      `select pgq.insert_event($1, 'k', i::text || repeat('.', 400), $1, null, null, null)
         from generate_series(1, $2) i`,
      [queue, perTick],
    );
    await tickRoot(root.db, queue);
  }
});

interface Running {
  proc: ChildProcess;
  applied: () => number;
  output: () => string;
  exited: Promise<number | null>;
}

function startWorker(): Running {
  return startChild([workerChild, JSON.stringify(branch.config), queue, '25']);
}

function startChild(args: string[]): Running {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return {
    proc,
    applied: () => out.match(/^applied /gm)?.length ?? 0,
    output: () => out,
    exited,
  };
}

/** The worker's local session is inside its copy transaction right now. */
async function copying(): Promise<boolean> {
  return inTransaction(branch, 'kill-test-worker');
}

async function inTransaction(node: TestNode, application: string): Promise<boolean> {
  const { rows } = await node.db.query(
    `select 1 from pg_stat_activity
      where application_name = $1 and datname = current_database()
        and xact_start is not null and (state = 'idle in transaction' or query ilike 'copy%')`,
    [application],
  );
  return rows.length > 0;
}

describe('CascadedWorker under SIGKILL', () => {
  it('killed mid-copy and restarted: every event once, every tick, same batches', async () => {
    for (let run = 0; run < kills; run++) {
      const running = startWorker();
      await waitFor(
        async () => (await copying()) || running.proc.exitCode !== null,
        'the worker to be inside a copy',
        60_000,
        2,
      );
      expect(running.proc.exitCode, running.output()).toBeNull();
      running.proc.kill('SIGKILL');
      await running.exited;
      // The killed session goes away with the process; the next worker must get the lock.
      await waitFor(async () => !(await copying()), 'the killed session to end');
    }
    const last = startWorker();
    const top = await queueTop(root.db, queue);
    await waitFor(
      async () => (await completedTick(branch.db, queue)) === top || last.proc.exitCode !== null,
      'the last worker to catch up',
    );
    await waitFor(
      async () => (await queueTop(branch.db, queue)) === top,
      'the branch to have the last tick',
    );
    last.proc.kill('SIGINT');
    expect(await last.exited, last.output()).toBe(0);

    const rootEvents = await queueEvents(root.db, queue);
    expect(rootEvents.filter((e) => e.ev_type === 'k')).toHaveLength(tickCount * perTick);
    expect(await queueEvents(branch.db, queue)).toEqual(rootEvents);
    expect(await ticks(branch.db, queue, start)).toEqual(await ticks(root.db, queue, start));
    expect(await batches(branch.db, queue, start)).toEqual(await batches(root.db, queue, start));
  });

  it('a CascadedConsumer killed mid-batch and restarted applies every event once', async () => {
    await branch.db.query('create table applied (ev_id bigint, tick bigint)');
    await CascadedConsumer.register({ connection: branch.config, queue, consumer: 'app' });
    for (let t = 0; t < (stress ? 20 : 6); t++) {
      await root.db.query(
        `select pgq.insert_event($1, 'c', i::text) from generate_series(1, $2) i`,
        [queue, 500],
      );
      await tickRoot(root.db, queue);
    }
    const args = [consumerChild, JSON.stringify(branch.config), queue, 'app', '20'];
    for (let run = 0; run < kills; run++) {
      const running = startChild(args);
      await waitFor(
        async () =>
          (await inTransaction(branch, 'kill-test-consumer')) || running.proc.exitCode !== null,
        'the consumer to be inside a target transaction',
      );
      expect(running.proc.exitCode, running.output()).toBeNull();
      running.proc.kill('SIGKILL');
      await running.exited;
      await waitFor(
        async () => !(await inTransaction(branch, 'kill-test-consumer')),
        'the killed session to end',
      );
    }
    const last = startChild(args);
    const top = await queueTop(root.db, queue);
    await waitFor(async () => {
      const { rows } = await branch.db.query(
        `select completed_tick::text as t from pgq_node.get_consumer_state($1, 'app')`,
        [queue],
      );
      return rows[0]?.t === top || last.proc.exitCode !== null;
    }, 'the last consumer to catch up');
    last.proc.kill('SIGINT');
    expect(await last.exited, last.output()).toBe(0);
    const produced = (await queueEvents(root.db, queue)).filter((e) => e.ev_type === 'c');
    const applied = await branch.db.query('select a.ev_id::text from applied a order by a.ev_id');
    expect(applied.rows.map((r) => r.ev_id)).toEqual(produced.map((e) => e.ev_id));
  });

  it('a tick lost between the copy commit and the tick is made again on the next loop', async () => {
    await root.db.query(`select pgq.insert_event($1, 'k', 'late', $1, null, null, null)`, [queue]);
    const tick = await tickRoot(root.db, queue);
    const worker = new CascadedWorker({ connection: branch.config, queue, loopDelay: 0.05 });
    try {
      while (await worker.runOnce()) {
        // every batch up to the root's last tick
      }
      expect(await queueTop(branch.db, queue)).toBe(tick);
      const made = await ticks(branch.db, queue, String(Number(tick) - 1));
      // As if the process had died after committing the copy, before making the tick.
      await branch.db.query(
        'delete from pgq.tick where tick_id = $1 and tick_queue = (select queue_id from pgq.queue where queue_name = $2)',
        [tick, queue],
      );
      expect(await completedTick(branch.db, queue)).toBe(tick);
      expect(await worker.runOnce()).toBe(false);
      expect(await ticks(branch.db, queue, String(Number(tick) - 1))).toEqual(made);
    } finally {
      await worker.close();
    }
  });
});
