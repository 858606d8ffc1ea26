/**
 * Real pgqd processes for the tests: the built bin (bin/pgqd.js → dist/), a config file
 * per process with short periods, its log lines captured, and a kill on file end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

export const pgqdBin = path.resolve(import.meta.dirname, '../../bin/pgqd.js');

export interface PgqdProcess {
  readonly child: ChildProcess;
  readonly config: string;
  /** stderr and stdout lines so far. */
  readonly lines: string[];
  /** Wait (generously) until a line matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Exit code (or signal name) once it exits. */
  readonly exited: Promise<number | string>;
  signal(sig: NodeJS.Signals): void;
}

export interface PgqdFixture {
  dir: string;
  /** Write `[pgqd]` with these keys (fast defaults for tests underneath). */
  writeConfig(name: string, keys: Record<string, string | number>): string;
  /** Start `pgqd <args>`; killed after the file if still running. */
  start(args: string[], env?: NodeJS.ProcessEnv): PgqdProcess;
  /** Run a short pgqd command to its end. */
  run(args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }>;
}

export const fastSettings = {
  ticker_period: 0.2,
  check_period: 1,
  retry_period: 0.2,
  maint_period: 0.5,
  stats_period: 1,
  reconnect_max_delay: 0.5,
};

export function usePgqd(): PgqdFixture {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-pgqd-'));
  const started: PgqdProcess[] = [];
  afterAll(async () => {
    for (const proc of started) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    writeConfig(name, keys) {
      const file = path.join(dir, `${name}.ini`);
      const all = { ...fastSettings, ...keys };
      const body = Object.entries(all)
        .map(([key, value]) => `${key} = ${value}`)
        .join('\n');
      writeFileSync(file, `[pgqd]\n${body}\n`);
      return file;
    },
    start(args, env) {
      const proc = spawnPgqd(args, env);
      started.push(proc);
      return proc;
    },
    async run(args) {
      const proc = spawnPgqd(args);
      started.push(proc);
      const code = await proc.exited;
      const out = (stream: 'stdout' | 'stderr') =>
        proc.lines
          .filter((line) => line.startsWith(`${stream}:`))
          .map((line) => line.slice(stream.length + 1))
          .join('\n');
      return { code, stdout: out('stdout'), stderr: out('stderr') };
    },
  };
}

function spawnPgqd(args: string[], env?: NodeJS.ProcessEnv): PgqdProcess {
  const child = spawn(process.execPath, [pgqdBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const collect = (stream: 'stdout' | 'stderr') => {
    let rest = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) lines.push(`${stream}:${part}`);
    });
    child[stream]?.on('end', () => {
      if (rest) lines.push(`${stream}:${rest}`);
    });
  };
  collect('stdout');
  collect('stderr');
  const exited = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    config: args[0] ?? '',
    lines,
    exited,
    signal(sig) {
      child.kill(sig);
    },
    async waitFor(pattern, timeoutMs = 20_000) {
      const found = await poll(
        async () => lines.find((line) => pattern.test(line)),
        (line) => line !== undefined,
        timeoutMs,
        () => `waiting for ${pattern} in:\n${lines.join('\n')}`,
      );
      return found as string;
    },
  };
}

/** Poll until `check` accepts what `probe` returns (generous deadline, no timing asserted). */
export async function poll<T>(
  probe: () => Promise<T>,
  check: (value: T) => boolean,
  timeout = 20_000,
  describe: (last: T | undefined) => string = (last) => `last value: ${JSON.stringify(last)}`,
): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (check(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeout} ms; ${describe(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const eventually = poll;
