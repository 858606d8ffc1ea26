import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { isLivePostgres } from '../../src/pg/cluster-files.js';

// The fixture runs compiled code: `npm test` builds dist/ first (pretest).
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = path.join(root, 'test/pg/fixtures/orphan-cluster.mjs');
const env = { ...process.env, SKYTOOLS_PG_BIN: inject('sharedCluster').binDir };
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-orphans-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Orphan {
  pid: number;
  dir: string;
}

/** The guardian polls once a second, then shuts down in immediate mode: allow it time. */
async function expectCleanedUp(orphan: Orphan): Promise<void> {
  await expect
    .poll(() => isLivePostgres(orphan.pid), { timeout: 20_000, interval: 250 })
    .toBe(false);
  await expect.poll(() => existsSync(orphan.dir), { timeout: 20_000, interval: 250 }).toBe(false);
}

function startFixture(mode: 'throw' | 'hang') {
  const child = spawn(process.execPath, [fixture, mode], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const firstLine = new Promise<Orphan>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(JSON.parse(line) as Orphan));
    child.once('exit', (code) => reject(new Error(`fixture exited early with ${code}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, firstLine, exited };
}

describe('nothing is left running when the owner goes away', () => {
  it('after the owning process dies of an uncaught exception', async () => {
    const { firstLine, exited } = startFixture('throw');
    const orphan = await firstLine;
    expect(await exited).not.toBe(0);
    await expectCleanedUp(orphan);
  });

  it('after the owning process is killed with SIGKILL', async () => {
    const { child, firstLine, exited } = startFixture('hang');
    const orphan = await firstLine;
    expect(isLivePostgres(orphan.pid)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    await expectCleanedUp(orphan);
  });

  it('after a failing test in a test run', async () => {
    const report = path.join(scratch, 'failing-report.json');
    const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');
    const child = spawn(
      process.execPath,
      [vitest, 'run', '--config', 'test/pg/fixtures/vitest.failing.config.ts'],
      { cwd: root, env: { ...env, ORPHAN_REPORT: report }, stdio: 'ignore' },
    );
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    await expectCleanedUp(JSON.parse(readFileSync(report, 'utf8')) as Orphan);
  });
});
