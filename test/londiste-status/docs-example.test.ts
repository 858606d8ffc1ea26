/**
 * docs/londiste.md's walkthrough, run as written: every ```sh block after the one that makes
 * a server (the test has its own cluster, reached through the same PG* variables), in one
 * directory holding the ```ini files the page names, with our `londiste` and `pgqd` first on
 * the PATH (Debian's /usr/bin/londiste would shadow ours).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useExtraClusters } from '../harness/clusters.js';

const startCluster = useExtraClusters();
const repo = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(repo, 'docs/londiste.md'), 'utf8');
const walkthrough = doc.slice(
  doc.indexOf('## A walkthrough'),
  doc.indexOf('## Table states and the copy'),
);

/** createdb and psql from PATH, else Debian's PostgreSQL 15 client (which .ci/run installs). */
function clientBinDir(): string | undefined {
  if (spawnSync('createdb', ['--version'], { stdio: 'ignore' }).status === 0) return undefined;
  const debian = '/usr/lib/postgresql/15/bin';
  if (existsSync(path.join(debian, 'createdb'))) return debian;
  throw new Error(
    'createdb and psql are needed to run the docs walkthrough: install postgresql-client',
  );
}

describe('docs/londiste.md', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-londiste-doc-'));
  afterAll(() => {
    // Whatever the walkthrough left running (it stops everything itself when it passes).
    const pidfiles = ['leaf.pid', 'root.pid', 'pgqd.pid', 'leaf.pid.copy.public.orders'];
    for (const pidfile of pidfiles) {
      const file = path.join(dir, pidfile);
      if (!existsSync(file)) continue;
      const pid = Number(readFileSync(file, 'utf8').trim());
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('the root and leaf walkthrough runs as written', async () => {
    const cluster = await startCluster();
    for (const match of walkthrough.matchAll(/`([a-z]+\.ini)`[^\n]*:\n\n```ini\n([\s\S]*?)```/g)) {
      writeFileSync(path.join(dir, match[1] as string), match[2] as string);
    }
    expect(['root.ini', 'leaf.ini', 'pgqd.ini'].every((f) => existsSync(path.join(dir, f)))).toBe(
      true,
    );
    for (const tool of ['londiste', 'pgqd']) {
      const shim = path.join(dir, tool);
      writeFileSync(
        shim,
        `#!/bin/sh\nexec "${process.execPath}" "${path.join(repo, 'bin', `${tool}.js`)}" "$@"\n`,
      );
      chmodSync(shim, 0o755);
    }
    const blocks = [...walkthrough.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    expect(blocks[0]).toContain('skytools cluster init');
    const client = clientBinDir();
    const env = {
      ...process.env,
      PATH: [dir, ...(client ? [client] : []), process.env.PATH].join(path.delimiter),
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: 'postgres',
    };
    const outputs: string[] = [];
    for (const block of blocks.slice(1)) {
      const run = spawnSync('bash', ['-e', '-c', block], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.status, `${block}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
      outputs.push(run.stdout);
    }
    const [, added, checked] = outputs;
    expect(added).toContain('All 1 tables of node leaf are in sync');
    expect(checked).toMatch(/^root \(root\)\n\| {2}Tables: 1\/0\/0\n/m);
    expect(checked).toMatch(/^\+--leaf \(leaf\)\n {6}Tables: 1\/0\/0\n/m);
    expect(checked).toMatch(
      /^Counting public\.orders\nsrcdb: 1001 rows, checksum=(-?\d+)\ndstdb: 1001 rows, checksum=\1\n/m,
    );
  }, 300_000);
});
