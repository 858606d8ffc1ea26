/**
 * Tool processes for end-to-end tests: ours (bin/londiste.js, bin/pgqd.js through node:
 * Debian's bins shadow ours on PATH) and, for interop tests, upstream's Python londiste and
 * C pgqd (Debian's python3-londiste and pgqd, which .ci/run installs on the PostgreSQL 15
 * leg). Each run has its own directory of INI, log and pid files; every process still
 * running after the file is killed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

export const upstreamLondiste = '/usr/bin/londiste';
export const upstreamPgqd = '/usr/bin/pgqd';
const ourBin = (name: string) => path.resolve(import.meta.dirname, `../../bin/${name}.js`);

export type Side = 'upstream' | 'ours';
export type Tool = 'londiste' | 'pgqd';

export interface Finished {
  code: number | null;
  output: string;
}

export interface ToolRun {
  dir: string;
  /**
   * Write `<name>.ini` with one section of these keys and the run's logfile and pidfile
   * (and job_name, but for pgqd: the C daemon refuses keys it does not know).
   */
  ini(name: string, section: string, keys: Record<string, string | number>): string;
  /** A command to its end (create-root, add-table, ...). */
  tool(tool: Tool, args: string[], side?: Side): Promise<Finished>;
  /** A long-running process (worker, pgqd); killed after the file. */
  start(tool: Tool, args: string[], side?: Side): ChildProcess;
  /** The log file of a job, '' while it has none. */
  log(name: string): string;
}

export function upstreamToolsInstalled(): boolean {
  return existsSync(upstreamLondiste) && existsSync(upstreamPgqd);
}

function command(side: Side, tool: Tool, args: string[]): [string, string[]] {
  if (side === 'ours') return [process.execPath, [ourBin(tool), ...args]];
  return [tool === 'londiste' ? upstreamLondiste : upstreamPgqd, args];
}

export function useToolRun(): ToolRun {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-interop-'));
  const running: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(
      running.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    killDaemons(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    ini(name, section, keys) {
      const file = path.join(dir, `${name}.ini`);
      const body = Object.entries({
        ...(section === 'pgqd' ? {} : { job_name: name }),
        logfile: path.join(dir, `${name}.log`),
        pidfile: path.join(dir, `${name}.pid`),
        ...keys,
      })
        .map(([key, value]) => `${key} = ${value}`)
        .join('\n');
      writeFileSync(file, `[${section}]\n${body}\n`);
      return file;
    },
    tool(tool, args, side = 'ours') {
      const [bin, argv] = command(side, tool, args);
      return new Promise((resolve, reject) => {
        const child = spawn(bin, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk) => (output += chunk));
        child.stderr.on('data', (chunk) => (output += chunk));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, output }));
      });
    },
    start(tool, args, side = 'ours') {
      const [bin, argv] = command(side, tool, args);
      const child = spawn(bin, argv, { cwd: dir, stdio: 'ignore' });
      running.push(child);
      return child;
    },
    log(name) {
      const file = path.join(dir, `${name}.log`);
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
    },
  };
}

/**
 * The processes that went to the background on their own (the copy processes a worker
 * starts with -d, pidfile `<pidfile>.copy.<table>`) outlive the worker, as upstream's do:
 * every pid in a pidfile of the run's directory is killed after the file.
 */
export function killDaemons(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!/\.pid(\.|$)/.test(name)) continue;
    const pid = Number(readFileSync(path.join(dir, name), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      // Gone already: the pidfile outlived its process.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}
