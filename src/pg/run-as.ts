import { spawn, spawnSync } from 'node:child_process';
import type { OsAccount } from './os-user.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a program as `account` (or as this process when `null`) and collect its output.
 * The environment is kept small and predictable: no locale surprises in initdb, and
 * HOME set to a directory the account can read.
 */
export function runAs(
  account: OsAccount | null,
  program: string,
  args: string[],
  cwd: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      cwd,
      env: serverEnv(cwd),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Whether `account` may enter and write `dir` (a private parent directory forbids it). */
export function canWriteDir(account: OsAccount | null, dir: string): boolean {
  if (account === null) return true;
  const check = spawnSync(
    '/bin/sh',
    ['-c', 'test -d "$1" && test -w "$1" && test -x "$1"', 'sh', dir],
    {
      uid: account.uid,
      gid: account.gid,
      cwd: '/',
      stdio: 'ignore',
    },
  );
  return check.status === 0;
}

function serverEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    LC_ALL: 'C',
  };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}
