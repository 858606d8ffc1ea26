/**
 * Starting and signalling one job as its service says: `script config args -d` in the
 * service's `cwd`, as the service's `user` when it has one. A script that names one of this
 * package's tools (`londiste`, `londiste3`, `pgqd`, `queue_mover3.py`, ...) runs that tool of
 * this package with this Node, so Debian's bins of the same name on PATH cannot stand in.
 * With `user`: as root the job runs with that account's uid and gid; otherwise through
 * `sudo -n -H -u USER`, as upstream did.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkytoolsError } from '../errors.js';
import { isRoot, lookupAccount } from '../pg/os-user.js';
import type { Job } from './settings.js';

const binDir = fileURLToPath(new URL('../../bin/', import.meta.url));

/** The bin of ours that `script` names, if any. */
export function ourBin(script: string): string | undefined {
  if (script.includes('/')) return undefined;
  const tool = script.replace(/\.py$/, '').replace(/3$/, '');
  const file = path.join(binDir, `${tool}.js`);
  return tool !== '' && existsSync(file) ? file : undefined;
}

/** `args` split into words; single and double quotes group, as a shell would. */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    words.push(match[1]?.replace(/\\(.)/g, '$1') ?? match[2] ?? (match[3] as string));
  }
  return words;
}

/** The program and arguments that start `job` detached (its own -d waits for its pidfile). */
export function startCommand(job: Job): [string, string[]] {
  const bin = ourBin(job.script);
  const args = [job.config, ...splitArgs(job.args), '-d'];
  return bin === undefined ? [job.script, args] : [process.execPath, [bin, ...args]];
}

function accountOf(user: string) {
  const account = lookupAccount(user);
  if (account === null) {
    throw new SkytoolsError('BAD_CONFIG', `user ${user} does not exist`, { user });
  }
  return account;
}

/** Run a command to its end with our stdout and stderr; resolves with its exit code. */
function runToEnd(
  program: string,
  args: string[],
  options: { cwd: string; user: string },
): Promise<number> {
  let command = program;
  let argv = args;
  let ids: { uid: number; gid: number } | undefined;
  const env = { ...process.env };
  if (options.user !== '') {
    if (isRoot()) {
      const account = accountOf(options.user);
      ids = { uid: account.uid, gid: account.gid };
      env.USER = account.name;
      env.LOGNAME = account.name;
    } else {
      command = 'sudo';
      argv = ['-n', '-H', '-u', options.user, program, ...args];
    }
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
      ...ids,
    });
    child.once('error', (error) =>
      reject(
        new SkytoolsError('DAEMON_START_FAILED', `cannot run ${command}: ${error.message}`, {
          command,
        }),
      ),
    );
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** Start the job; resolves with the launcher's exit code (0: its pidfile is written). */
export async function launchJob(job: Job): Promise<number> {
  if (!existsSync(job.cwd)) {
    throw new SkytoolsError(
      'BAD_CONFIG',
      `cwd of service ${job.service} does not exist: ${job.cwd}`,
      {
        cwd: job.cwd,
      },
    );
  }
  const [program, args] = startCommand(job);
  return runToEnd(program, args, { cwd: job.cwd, user: job.user });
}

/**
 * Send `signal` to `pid`. A job of another user is signalled through `sudo -u USER kill`
 * when we are not root (we may not signal it ourselves).
 */
export async function signalJob(job: Job, pid: number, signal: NodeJS.Signals): Promise<void> {
  if (job.user !== '' && !isRoot()) {
    const code = await runToEnd('kill', [`-${signal.replace(/^SIG/, '')}`, String(pid)], {
      cwd: '/',
      user: job.user,
    });
    if (code !== 0) {
      throw new SkytoolsError('SIGNAL_FAILED', `sudo -u ${job.user} kill ${pid} failed`, { pid });
    }
    return;
  }
  try {
    process.kill(pid, signal);
  } catch (error) {
    throw new SkytoolsError(
      'SIGNAL_FAILED',
      `cannot send ${signal} to pid ${pid}: ${(error as Error).message}`,
      { pid },
    );
  }
}
