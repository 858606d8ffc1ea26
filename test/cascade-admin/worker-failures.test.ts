/**
 * `setadm CONFIG worker` facing failures, through the real bin: a node that does not exist, or
 * that is dropped while the worker runs, ends the job with one clear line and a non-zero exit
 * instead of looping; a killed session (a transient cause) is logged with its reason, and the
 * worker recovers and goes on copying.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { cli, lastTick, nodeDb, poll, produceAndTick, useAdmin, type Worker } from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();

async function waitOutput(worker: Worker, pattern: RegExp) {
  return poll(
    async () => worker.output.join(''),
    (text) => pattern.test(text),
    30_000,
    (text) => `waiting for ${pattern} in:\n${text}`,
  );
}

/** Lines at ERROR level or above. */
function errorLines(text: string): string[] {
  return text.split('\n').filter((line) => / (ERROR|CRITICAL) /.test(line));
}

describe('setadm worker failures', () => {
  it('stops with one clear line when the node never existed', async () => {
    const none = await nodeDb(test, 'none');
    const logfile = path.join(admin.dir, 'none.log');
    const ini = admin.writeIni('none', {
      node_db: none.connstr,
      queue_name: 'noq',
      logfile,
      loop_delay: '0.2',
    });
    const worker = admin.startWorker([ini]);
    expect(await worker.exited).toBe(1);
    const errors = errorLines(worker.output.join(''));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      / ERROR \[job=none\] Job none stopped: queue "noq" has no cascade node in this database \(Unknown queue: noq\); create the node first/,
    );
    expect(readFileSync(logfile, 'utf8')).not.toContain('retrying');
  });

  it('stops with one clear line when its node is dropped while it runs', async () => {
    const queue = 'dropq';
    const root = await nodeDb(test, 'droproot');
    const branch = await nodeDb(test, 'dropbranch');
    expect((await admin.run([...cli(root, queue), 'create-root', 'root', root.connstr])).code).toBe(
      0,
    );
    const ini = admin.writeIni('dropbranch', {
      node_db: branch.connstr,
      queue_name: queue,
      loop_delay: '0.2',
    });
    const created = await admin.run([
      ini,
      'create-branch',
      'branch',
      branch.connstr,
      '--provider',
      root.connstr,
    ]);
    expect(created.code).toBe(0);
    const worker = admin.startWorker([ini]);
    const tick = BigInt(await produceAndTick(root, queue, ['x']));
    await poll(
      () => lastTick(branch, queue),
      (t) => t >= tick,
    );
    const dropped = await admin.run([...cli(root, queue), 'drop-node', 'branch']);
    expect(dropped.code).toBe(0);
    expect(await worker.exited).toBe(1);
    const errors = errorLines(worker.output.join(''));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      / ERROR \[job=dropbranch\] Job dropbranch stopped: queue "dropq" has no cascade node/,
    );
  });

  it('logs the reason of a killed session, retries and recovers', async () => {
    const queue = 'killq';
    const root = await nodeDb(test, 'killroot');
    const branch = await nodeDb(test, 'killbranch');
    expect((await admin.run([...cli(root, queue), 'create-root', 'root', root.connstr])).code).toBe(
      0,
    );
    const ini = admin.writeIni('killbranch', {
      job_name: 'killjob',
      node_db: branch.connstr,
      queue_name: queue,
      loop_delay: '0.2',
    });
    const created = await admin.run([
      ini,
      'create-branch',
      'branch',
      branch.connstr,
      '--provider',
      root.connstr,
    ]);
    expect(created.code).toBe(0);
    // The worker's next read of its state waits on this lock; its session is killed there.
    const holder = await test.connect({ database: branch.database });
    await holder.query('begin');
    await holder.query('lock table pgq_node.node_info in access exclusive mode');
    const worker = admin.startWorker([ini]);
    // Read outside the holder's transaction: pg_stat_activity is a snapshot within one.
    const waiting = await poll(
      async () =>
        (
          await test.query<{ pid: number }>(
            `select pid from pg_stat_activity
              where datname = $1 and wait_event_type = 'Lock'
                and application_name like '%worker killjob'`,
            [branch.database],
          )
        ).rows,
      (rows) => rows.length === 1,
    );
    await test.query('select pg_terminate_backend($1)', [waiting[0]?.pid]);
    await waitOutput(worker, /worker loop failed; retrying: /);
    await holder.query('rollback');
    await holder.end();
    const tick = BigInt(await produceAndTick(root, queue, ['after']));
    await poll(
      () => lastTick(branch, queue),
      (t) => t >= tick,
    );
    const failed = errorLines(worker.output.join(''));
    expect(failed[0]).toMatch(
      /ERROR \[queue=killq job=killjob\] worker loop failed; retrying: on queue "killq": terminating connection due to administrator command \[CONNECTION_LOST, SQLSTATE 57P01\]$/,
    );
    expect(await admin.stopWorker(worker)).toBe(0);
  });
});
