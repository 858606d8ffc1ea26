/**
 * Real simple_consumer / simple_local_consumer processes for the tests: the built bins, an INI
 * file per job in a temporary directory, output lines captured, SIGKILL at file end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { poll } from '../pgqd/helpers.js';

export { poll };

export type Tool =
  | 'simple_consumer'
  | 'simple_local_consumer'
  | 'queue_mover'
  | 'queue_splitter'
  | 'queue_loader'
  | 'data_maintainer';

export interface JobProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | string>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  signal(sig: NodeJS.Signals): void;
}

export interface JobFixture {
  dir: string;
  /** Write `<name>.ini` with one `[section]` of these keys. */
  writeConfig(name: string, section: string, keys: Record<string, string | number>): string;
  start(tool: Tool, args: string[]): JobProcess;
  run(
    tool: Tool,
    args: string[],
  ): Promise<{ code: number | string; stdout: string; stderr: string }>;
}

export function libpq(config: { host?: string; port?: number; user?: string; database?: string }) {
  return `host=${config.host} port=${config.port} user=${config.user} dbname=${config.database}`;
}

export function useJobs(): JobFixture {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-consumers-'));
  const started: JobProcess[] = [];
  afterAll(async () => {
    for (const proc of started) {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill('SIGKILL');
        await proc.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (tool: Tool, args: string[]) => {
    const proc = spawnJob(tool, args);
    started.push(proc);
    return proc;
  };
  return {
    dir,
    writeConfig(name, section, keys) {
      const file = path.join(dir, `${name}.ini`);
      const body = Object.entries(keys)
        .map(([key, value]) => `${key} = ${value}`)
        .join('\n');
      writeFileSync(file, `[${section}]\n${body}\n`);
      return file;
    },
    start,
    async run(tool, args) {
      const proc = start(tool, args);
      const code = await proc.exited;
      const out = (stream: string) =>
        proc.lines
          .filter((line) => line.startsWith(`${stream}:`))
          .map((line) => line.slice(stream.length + 1))
          .join('\n');
      return { code, stdout: out('stdout'), stderr: out('stderr') };
    },
  };
}

function spawnJob(tool: Tool, args: string[]): JobProcess {
  const bin = path.resolve(import.meta.dirname, `../../bin/${tool}.js`);
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const stream of ['stdout', 'stderr'] as const) {
    let rest = '';
    child[stream]?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) lines.push(`${stream}:${part}`);
    });
    child[stream]?.on('end', () => {
      if (rest) lines.push(`${stream}:${rest}`);
    });
  }
  const exited = new Promise<number | string>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    lines,
    exited,
    signal: (sig) => child.kill(sig),
    async waitFor(pattern, timeoutMs = 20_000) {
      return (await poll(
        async () => lines.find((line) => pattern.test(line)),
        (line) => line !== undefined,
        timeoutMs,
        () => `waiting for ${pattern} in:\n${lines.join('\n')}`,
      )) as string;
    },
  };
}
