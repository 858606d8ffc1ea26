import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

// The bin runs compiled code: `npm test` builds dist/ first (pretest).
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = path.join(root, 'bin/skytools.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Started {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  done: Promise<Run>;
}

/** Start `skytools demo ...` with the run's PostgreSQL binaries. */
export function startDemo(...args: string[]): Started {
  const { binDir } = inject('sharedCluster');
  const child = spawn(process.execPath, [bin, 'demo', ...args], {
    env: { ...process.env, SKYTOOLS_PG_BIN: binDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output.stderr += chunk;
  });
  const done = new Promise<Run>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, ...output }));
  });
  return { child, output, done };
}

export function demo(...args: string[]): Promise<Run> {
  return startDemo(...args).done;
}

/** The temporary cluster directory the demo announced on stderr. */
export function clusterDir(stderr: string): string | null {
  return /started PostgreSQL \S+ in (\S+)/.exec(stderr)?.[1] ?? null;
}
