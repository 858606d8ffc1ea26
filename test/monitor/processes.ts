/**
 * The monitoring commands as users run them (bin/skytools.js through node: the built dist/),
 * a server's address read from the line it prints, and every process still running after
 * the file killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll } from 'vitest';
import { until } from '../harness/until.js';

export const skytoolsBin = path.resolve(import.meta.dirname, '../../bin/skytools.js');

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Served {
  child: ChildProcess;
  /** `http://host:port` from the command's first line. */
  url: string;
  output: { stdout: string; stderr: string };
  /** Resolves when the process has ended. */
  exited: Promise<Finished>;
}

const running: ChildProcess[] = [];

export function killAfterFile(): void {
  afterAll(async () => {
    await Promise.all(
      running.splice(0).map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  });
}

function launch(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: { stdout: string; stderr: string }; exited: Promise<Finished> } {
  const child = spawn(process.execPath, [file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output.stderr += chunk;
  });
  const exited = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, ...output }));
  });
  return { child, output, exited };
}

/** Run `file` (default bin/skytools.js) with `args` to its end. */
export function run(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; file?: string } = {},
): Promise<Finished> {
  return launch(options.file ?? skytoolsBin, args, options.env ?? {}).exited;
}

/** Start a serving command and wait for the `http://...` address it prints on stderr. */
export async function serve(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Served> {
  const started = launch(skytoolsBin, args, options.env ?? {});
  let ended: Finished | null = null;
  void started.exited.then((finished) => {
    ended = finished;
  });
  const url = await until(
    () => `an address from skytools ${args[0]}: ${started.output.stderr}`,
    async () => {
      if (ended !== null) throw new Error(`skytools ${args[0]} ended: ${JSON.stringify(ended)}`);
      return /(http:\/\/[^\s/]+)/.exec(started.output.stderr)?.[1] ?? null;
    },
    (found) => found !== null,
    options.timeoutMs,
  );
  return { ...started, url: url as string };
}
