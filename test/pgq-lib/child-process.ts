/**
 * A consumer fixture run as a real child process, for the kill tests: its output kept, and the
 * last `progress N` line it printed (events handled so far) readable at any moment.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface Child {
  proc: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
  progress(): number;
}

export function spawnChild(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  const proc = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let handled = 0;
  proc.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const all = [...out.matchAll(/progress (\d+)\n/g)];
    const last = all[all.length - 1];
    if (last) handled = Number(last[1]);
  });
  proc.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return { proc, exited, output: () => out, progress: () => handled };
}
