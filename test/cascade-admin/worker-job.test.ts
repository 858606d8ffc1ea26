/**
 * `setadm CONFIG worker` as a job: pidfile, -r / SIGHUP reload (the worker restarts with the
 * new config), -k / SIGTERM stop now (exit 1), -s / SIGINT graceful (exit 0), one worker per
 * pidfile, upstream's control messages.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { cli, lastTick, nodeDb, poll, produceAndTick, useAdmin, type Worker } from './helpers.js';

const test = useTestDatabase();
const admin = useAdmin();
const queue = 'jobq';

async function waitOutput(worker: Worker, pattern: RegExp) {
  return poll(
    async () => worker.output.join(''),
    (text) => pattern.test(text),
    20_000,
    (text) => `waiting for ${pattern} in:\n${text}`,
  );
}

describe('setadm worker', () => {
  it('reloads on -r, stops at once on -k, gracefully on -s; one per pidfile', async () => {
    const root = await nodeDb(test, 'root');
    const branch = await nodeDb(test, 'branch');
    expect((await admin.run([...cli(root, queue), 'create-root', 'root', root.connstr])).code).toBe(
      0,
    );
    const pidfile = path.join(admin.dir, 'branch.pid');
    const logfile = path.join(admin.dir, 'branch.log');
    const ini = admin.writeIni('branch', {
      node_db: branch.connstr,
      queue_name: queue,
      pidfile,
      logfile,
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

    const first = admin.startWorker([ini]);
    await waitOutput(first, /worker starting: queue jobq/);
    const tick = BigInt(await produceAndTick(root, queue, ['x']));
    await poll(
      () => lastTick(branch, queue),
      (t) => t >= tick,
    );

    const second = await admin.run([ini, 'worker']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('Pidfile exists, another process running?');

    const reload = await admin.run([ini, '-r']);
    expect(reload).toMatchObject({ code: 0, stdout: 'SIGHUP sent\n' });
    await waitOutput(first, /restarting the worker with the new config/);
    const again = BigInt(await produceAndTick(root, queue, ['y']));
    await poll(
      () => lastTick(branch, queue),
      (t) => t >= again,
    );

    expect((await admin.run([ini, '-k'])).stdout).toBe('SIGTERM sent\n');
    expect(await first.exited).toBe(1);

    const third = admin.startWorker([ini]);
    await waitOutput(third, /worker starting/);
    expect((await admin.run([ini, 'worker', '-s'])).stdout).toBe('SIGINT sent\n');
    expect(await third.exited).toBe(0);
    expect(readFileSync(logfile, 'utf8')).toContain('setadm worker stopped');

    const none = await admin.run([ini, '-s']);
    expect(none).toMatchObject({ code: 1, stderr: 'No pidfile, process not running\n' });
    const noPidfile = await admin.run([...cli(branch, queue), '-s']);
    expect(noPidfile).toMatchObject({ code: 1, stderr: 'No pidfile in config, nothing to do\n' });
    const daemon = await admin.run([...cli(branch, queue), 'worker', '-d']);
    expect(daemon).toMatchObject({ code: 1, stderr: 'setadm: error: Daemon needs pidfile\n' });
  });
});
