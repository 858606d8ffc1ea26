/**
 * Daemon mode (`-d`) without fork(): the command re-spawns itself detached (its own session,
 * stdin closed, stdout/stderr into the logfile) and the parent exits only once the child has
 * written its pidfile, or reports the child's startup error and fails. So `pgqd -d x.ini && pgqd
 * -s x.ini` always finds the pidfile.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { SkytoolsError } from '../errors.js';
import { openLogfile } from './logger.js';

const childMarker = 'SKYTOOLS_DAEMON_CHILD';

type ChildMessage = { ready: true } | { error: string };

export interface DaemonOptions {
  /** The script to run (an absolute path) and its arguments, without `-d`. */
  script: string;
  args: string[];
  /** Where the child's stdout and stderr go (crashes included); none: discarded. */
  logfile?: string | undefined;
}

/** Start the detached child and wait for its word; resolves with the child's pid. */
export function spawnDaemon(options: DaemonOptions): Promise<number> {
  const out = options.logfile ? openLogfile(options.logfile) : 'ignore';
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [options.script, ...options.args], {
      detached: true,
      stdio: ['ignore', out, out, 'ipc'],
      env: { ...process.env, [childMarker]: '1' },
    });
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
  return new Promise((resolve, reject) => {
    const fail = (why: string) =>
      reject(new SkytoolsError('DAEMON_START_FAILED', why, { script: options.script }));
    child.once('error', (error) => fail(`cannot start the daemon: ${error.message}`));
    child.once('exit', (code, signal) =>
      fail(`the daemon exited during startup (${signal ?? `exit code ${code}`})`),
    );
    child.once('message', (message: ChildMessage) => {
      child.removeAllListeners('exit');
      if ('error' in message) {
        child.once('exit', () => fail(message.error));
        return;
      }
      child.disconnect();
      child.unref();
      resolve(child.pid as number);
    });
  });
}

/** True in the re-spawned child of `spawnDaemon`. */
export function isDaemonChild(): boolean {
  return process.env[childMarker] === '1' && typeof process.send === 'function';
}

/** Child side: the pidfile is written, the parent may exit. */
export function reportDaemonReady(): void {
  if (!isDaemonChild()) return;
  process.send?.({ ready: true } satisfies ChildMessage);
  process.disconnect?.();
}

/** Child side: startup failed; the parent prints this and exits non-zero. */
export function reportDaemonFailure(message: string): void {
  if (!isDaemonChild() || !process.connected) return;
  process.send?.({ error: message } satisfies ChildMessage);
}
