import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { isRoot } from '../../src/pg/os-user.js';
import { type BinResult, runBin } from '../harness/run-bin.js';

// The bin runs compiled code: `npm test` builds dist/ first (pretest).
const root = fileURLToPath(new URL('../../', import.meta.url));
const { binDir } = inject('sharedCluster');
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-cli-test-'));
chmodSync(scratch, 0o755);
const started: string[] = [];
afterAll(async () => {
  for (const dir of started) await skytools('cluster', 'stop', '--dir', dir, '--mode', 'immediate');
  rmSync(scratch, { recursive: true, force: true });
});

type Run = BinResult;

function skytools(...args: string[]): Promise<Run> {
  return runBin('skytools', args, { env: { SKYTOOLS_PG_BIN: binDir } });
}

function expectOneErrorLine(run: Run, message: RegExp): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^skytools: error: /);
  expect(lines[0]).toMatch(message);
}

describe('skytools --help / --version', () => {
  it('prints the package version', async () => {
    const run = await skytools('--version');
    const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('lists the subcommands and explains cluster options with their environment variables', async () => {
    const top = await skytools('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/cluster\s+create, start, stop and inspect/);
    const init = await skytools('cluster', 'init', '--help');
    expect(init.stdout).toMatch(/--dir <dir>.*env: SKYTOOLS_CLUSTER_DIR/s);
    expect(init.stdout).toMatch(/--pg-bin <dir>.*env: SKYTOOLS_PG_BIN/s);
  });

  it('rejects an unknown command', async () => {
    const run = await skytools('no-such-command');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/unknown command 'no-such-command'/);
  });
});

describe('skytools cluster', () => {
  it('init, start, status, stop with documented exit codes', async () => {
    const dir = path.join(scratch, 'main');
    const init = await skytools('cluster', 'init', '--dir', dir, '--no-fsync');
    expect(init.code).toBe(0);
    expect(init.stderr).toMatch(/initializing PostgreSQL \d+/);

    expect((await skytools('cluster', 'status', '--dir', dir)).code).toBe(3);
    const start = await skytools('cluster', 'start', '--dir', dir);
    started.push(dir);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres\n$/);

    const status = await skytools('cluster', 'status', '--dir', dir, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'running', dir });

    const stop = await skytools('cluster', 'stop', '--dir', dir);
    expect(stop.code).toBe(0);
    expect((await skytools('cluster', 'status', '--dir', dir)).code).toBe(3);
  });

  it('says a killed server crashed (exit 4) and start recovers it', async () => {
    const dir = path.join(scratch, 'crashed');
    await skytools('cluster', 'init', '--dir', dir, '--no-fsync');
    await skytools('cluster', 'start', '--dir', dir);
    started.push(dir);
    const pid = Number(readFileSync(path.join(dir, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await expect
      .poll(async () => (await skytools('cluster', 'status', '--dir', dir)).code, {
        timeout: 10_000,
      })
      .toBe(4);
    const status = await skytools('cluster', 'status', '--dir', dir);
    expect(status.stdout).toMatch(
      /stale postmaster\.pid \(pid \d+\): the server crashed or was killed/,
    );
    expect((await skytools('cluster', 'start', '--dir', dir)).code).toBe(0);
  });

  it('refuses a --pg-bin without server binaries', async () => {
    const dir = path.join(scratch, 'bad-bin');
    const run = await skytools('cluster', 'init', '--dir', dir, '--pg-bin', scratch);
    expectOneErrorLine(
      run,
      /no PostgreSQL server binaries in .*: missing initdb, pg_ctl, postgres/,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a --dir that holds something else, and start on a non-cluster', async () => {
    const dir = path.join(scratch, 'occupied');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    expectOneErrorLine(
      await skytools('cluster', 'init', '--dir', dir),
      /is not empty and is not a skytools cluster/,
    );
    expectOneErrorLine(
      await skytools('cluster', 'start', '--dir', dir),
      /is not a skytools cluster/,
    );
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a port in use and a bad port value', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const dir = path.join(scratch, 'port');
      expectOneErrorLine(
        await skytools('cluster', 'init', '--dir', dir, '--port', String(port)),
        new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`),
      );
      expect(existsSync(dir)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const bad = await skytools(
      'cluster',
      'init',
      '--dir',
      path.join(scratch, 'x'),
      '--port',
      'http',
    );
    expectOneErrorLine(bad, /--port must be a number from 1 to 65535, not "http"/);
  });

  it.runIf(isRoot())('refuses a data directory owned by another user', async () => {
    const dir = path.join(scratch, 'owned');
    await skytools('cluster', 'init', '--dir', dir, '--no-fsync');
    chownSync(path.join(dir, 'data'), 65534, 65534);
    expectOneErrorLine(
      await skytools('cluster', 'start', '--dir', dir),
      /data directory .*\/data is owned by nobody, but the server would run as skytools/,
    );
  });
});
