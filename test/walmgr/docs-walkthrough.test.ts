/**
 * docs/walmgr.md's walkthrough, run as written: its ```sh blocks in one bash -e script (they
 * share variables), with our bins first on the PATH and psql from PATH or Debian's client.
 * It ends by printing the row count the recovery must give.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, test } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const shims = mkdtempSync(path.join(os.tmpdir(), 'skytools-walmgr-bins-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'skytools-walmgr-docs-'));

afterAll(() => {
  // Servers a failed run left behind.
  for (const dir of ['restored', 'master']) {
    if (existsSync(path.join(work, dir, 'skytools-cluster.json'))) {
      spawnSync(process.execPath, [
        path.join(repo, 'bin', 'skytools.js'),
        'cluster',
        'stop',
        '--dir',
        path.join(work, dir),
        '--mode',
        'immediate',
      ]);
    }
  }
  rmSync(work, { recursive: true, force: true });
  rmSync(shims, { recursive: true, force: true });
});

function psqlDir(): string | undefined {
  if (spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0) return undefined;
  const debian = '/usr/lib/postgresql/15/bin';
  if (existsSync(path.join(debian, 'psql'))) return debian;
  throw new Error('psql is needed to run the docs walkthrough: install postgresql-client');
}

test('docs/walmgr.md: setup, backup, restore to a time before the mistake', async () => {
  const doc = readFileSync(path.join(repo, 'docs', 'walmgr.md'), 'utf8');
  const from = doc.indexOf('## Walkthrough');
  const walkthrough = doc.slice(from, doc.indexOf('\n## ', from + 1));
  const blocks = [...walkthrough.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  expect(blocks.length).toBeGreaterThan(5);
  for (const tool of ['walmgr', 'skytools']) {
    const shim = path.join(shims, tool);
    writeFileSync(
      shim,
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(repo, 'bin', `${tool}.js`)}" "$@"\n`,
    );
    chmodSync(shim, 0o755);
  }
  const client = psqlDir();
  const env = {
    ...process.env,
    W: work,
    PATH: [shims, ...(client ? [client] : []), process.env.PATH].join(path.delimiter),
  };
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve) => {
      const child = spawn('bash', ['-e', '-c', blocks.join('\n')], { cwd: work, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    },
  );
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  expect(result.stdout).toMatch(/^data\.master\t/m);
  expect(result.stdout.trim().split('\n').at(-1)).toBe('1001');
}, 300_000);
