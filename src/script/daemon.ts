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

// Other messages on the channel (a spare's: spare.ts) are not the daemon's word.
type ChildMessage = { ready: true } | { error: string } | { spare: string };

export interface DaemonOptions {
  /** The script to run (an absolute path) and its arguments, without `-d`. */
  script: string;
  args: string[];
  /** Where the child's stdout and stderr go (crashes included); none: discarded. */
  logfile?: string | undefined;
}

/** Start the detached child and wait for its word; resolves with the child's pid. */
export function spawnDaemon(options: DaemonOptions): Promise<number> {
  return daemonReady(startDaemonChild(options), options.script);
}

/**
 * The detached child, its stdout and stderr into the logfile and an IPC channel for its
 * word; `env` added to the parent's (a spare's marker: spare.ts).
 */
export function startDaemonChild(
  options: DaemonOptions,
  env: Record<string, string> = {},
): ChildProcess {
  const out = options.logfile ? openLogfile(options.logfile) : 'ignore';
  try {
    return spawn(process.execPath, [options.script, ...options.args], {
      detached: true,
      stdio: ['ignore', out, out, 'ipc'],
      env: { ...process.env, ...env, [childMarker]: '1' },
    });
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
}

/**
 * Resolves with the child's pid once it has written its pidfile (then it runs on its own:
 * disconnected, unreferenced); rejects with its startup error or its early exit.
 */
export function daemonReady(child: ChildProcess, script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new SkytoolsError('DAEMON_START_FAILED', why, { script }));
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`the daemon exited during startup (${signal ?? `exit code ${code}`})`);
    const onMessage = (message: ChildMessage) => {
      if (!('ready' in message) && !('error' in message)) return;
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
      if ('error' in message) {
        child.once('exit', () => fail(message.error));
        return;
      }
      child.disconnect();
      child.unref();
      resolve(child.pid as number);
    };
    child.once('error', (error) => fail(`cannot start the daemon: ${error.message}`));
    child.once('exit', onExit);
    child.on('message', onMessage);
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
