/**
 * A docs page's walkthrough run as written: the ```ini files it names written into one
 * directory, every ```sh block after the first (the one that makes a server: the test has
 * its own cluster, reached through the same PG* variables) run there with bash -e, and our
 * bins first on the PATH (Debian's /usr/bin/londiste or pgqd would shadow ours). Whatever
 * the walkthrough left running is killed after the file.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { killDaemons } from './tool-processes.js';

const repo = path.resolve(import.meta.dirname, '../..');

export interface WalkthroughOptions {
  /** The page, from the repository's root (`docs/londiste.md`). */
  page: string;
  /** The headings the walkthrough starts at and ends before. */
  from: string;
  to: string;
  /** The ```ini files it must name. */
  iniFiles: string[];
  /** Our bins it calls by name. */
  tools: string[];
  /** The longest a block may take. */
  blockTimeoutMs: number;
  /**
   * Whether the first ```sh block makes the server (`skytools cluster init`), which the test
   * replaces with its own cluster (default true); false runs every block.
   */
  serverBlock?: boolean;
}

export interface WalkthroughRun {
  /** Each block's stdout, the server block left out. */
  outputs: string[];
  /** The environment the blocks ran with (PATH, PG*), for the test's own checks. */
  env: NodeJS.ProcessEnv;
}

/** createdb and psql from PATH, else Debian's PostgreSQL 15 client (which .ci/run installs). */
function clientBinDir(): string | undefined {
  if (spawnSync('createdb', ['--version'], { stdio: 'ignore' }).status === 0) return undefined;
  const debian = '/usr/lib/postgresql/15/bin';
  if (existsSync(path.join(debian, 'createdb'))) return debian;
  throw new Error(
    'createdb and psql are needed to run the docs walkthrough: install postgresql-client',
  );
}

export function useDocWalkthrough(
  options: WalkthroughOptions,
): (cluster: { host: string; port: number }) => WalkthroughRun {
  const doc = readFileSync(path.join(repo, options.page), 'utf8');
  const walkthrough = doc.slice(doc.indexOf(options.from), doc.indexOf(options.to));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-walkthrough-'));
  afterAll(() => {
    killDaemons(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return (cluster) => {
    for (const match of walkthrough.matchAll(
      /`([a-z0-9_]+\.ini)`[^\n]*:\n\n```ini\n([\s\S]*?)```/g,
    )) {
      writeFileSync(path.join(dir, match[1] as string), match[2] as string);
    }
    expect(options.iniFiles.filter((f) => !existsSync(path.join(dir, f)))).toEqual([]);
    for (const tool of options.tools) {
      const shim = path.join(dir, tool);
      writeFileSync(
        shim,
        `#!/bin/sh\nexec "${process.execPath}" "${path.join(repo, 'bin', `${tool}.js`)}" "$@"\n`,
      );
      chmodSync(shim, 0o755);
    }
    const blocks = [...walkthrough.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    const serverBlock = options.serverBlock ?? true;
    if (serverBlock) expect(blocks[0]).toContain('skytools cluster init');
    const client = clientBinDir();
    const env = {
      ...process.env,
      PATH: [dir, ...(client ? [client] : []), process.env.PATH].join(path.delimiter),
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: 'postgres',
    };
    const outputs: string[] = [];
    for (const block of blocks.slice(serverBlock ? 1 : 0)) {
      const run = spawnSync('bash', ['-e', '-c', block], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: options.blockTimeoutMs,
      });
      expect(run.status, `${block}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
      outputs.push(run.stdout);
    }
    return { outputs, env };
  };
}
