/**
 * The dashboard: its server answers read-only requests (page, snapshot, chart library), and
 * `skytools demo --dashboard` opened in headless Chromium (Debian's chromium driven by
 * playwright-core) shows the demo's queue and consumers, and a chart whose data changes
 * between two looks. The screenshot is kept under test-artifacts/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConsumers } from '../../src/demo/setup.js';
import { Monitor, type MonitorSnapshot, serveDashboard } from '../../src/monitor/index.js';
import { useTestDatabase } from '../harness/database.js';
import { until } from '../harness/until.js';
import { killAfterFile, serve } from './processes.js';

const db = useTestDatabase();
killAfterFile();
const chromiumBin = '/usr/bin/chromium';
const artifacts = path.resolve(import.meta.dirname, '../../test-artifacts');
const isRoot = process.getuid?.() === 0;

/** Why the browser test cannot run here, or null: only a machine that cannot install it skips. */
function browserMissing(): string | null {
  if (existsSync(chromiumBin)) return null;
  if (isRoot) return null; // .ci/run installs it; as root its absence is a failure, not a skip
  return `${chromiumBin} is missing and this user (not root) cannot install it: apt-get install chromium`;
}

describe('dashboard server', () => {
  let monitor: Monitor;
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    await db.query(`select pgq.create_queue('page_q')`);
    monitor = new Monitor([db.url]);
    const endpoint = await serveDashboard(monitor, { host: '127.0.0.1', port: 0 });
    url = endpoint.url;
    close = () => endpoint.close();
  });
  afterAll(async () => {
    await close?.();
    await monitor?.close();
  });

  it('serves the page, the snapshot, the chart library and /metrics; nothing else, read-only', async () => {
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await page.text()).toContain(`<title>skytools: ${db.name}</title>`);
    const snapshot = (await (await fetch(`${url}/api/snapshot`)).json()) as MonitorSnapshot;
    expect(snapshot.databases[0]?.queues.map((q) => q.queue)).toContain('page_q');
    const lib = await fetch(`${url}/assets/uPlot.iife.min.js`);
    expect(lib.status).toBe(200);
    expect(await lib.text()).toMatch(/uPlot/);
    expect((await fetch(`${url}/assets/uPlot.min.css`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^skytools_up\{database=/m);
    for (const missing of ['/assets/constructor', '/assets/../package.json', '/etc/passwd']) {
      expect((await fetch(`${url}${missing}`)).status, missing).toBe(404);
    }
    expect((await fetch(`${url}/api/snapshot`, { method: 'POST' })).status).toBe(405);
  });
});

describe.skipIf(browserMissing() !== null)(
  `the page in headless Chromium${browserMissing() ? ` (skipped: ${browserMissing()})` : ''}`,
  () => {
    it('shows the demo queue and consumers, and a chart whose data changes between two looks', async () => {
      if (!existsSync(chromiumBin)) {
        throw new Error(
          `${chromiumBin} is missing: .ci/run installs it (apt-get install chromium)`,
        );
      }
      const demo = await serve(
        ['demo', '--db', db.url, '--dashboard', '127.0.0.1:0', '--duration', '0', '--rate', '50'],
        { timeoutMs: 60_000 },
      );
      const queue = /queue (skytools_demo_\S+):/.exec(demo.output.stderr)?.[1] as string;
      expect(queue).toBeTruthy();
      const browser = await chromium.launch({
        executablePath: chromiumBin,
        args: isRoot ? ['--no-sandbox'] : [],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        await page.goto(`${demo.url}/?interval=0.5`);
        await page.locator('#queues td', { hasText: queue }).first().waitFor();
        for (const { name } of demoConsumers) {
          await page.locator('#consumers td', { hasText: name }).first().waitFor();
        }
        const look = async () => ({
          points: Number(await page.locator('#rate-chart').getAttribute('data-points')),
          last: await page.locator('#rate-chart').getAttribute('data-last'),
        });
        const first = await until('two points on the rate chart', look, (l) => l.points >= 2);
        const second = await until(
          'the rate chart to change',
          look,
          (l) => l.points > first.points && l.last !== first.last,
        );
        expect(JSON.parse(second.last ?? '[]').some((v: number | null) => (v ?? 0) > 0)).toBe(true);
        const lagSeries = await until(
          'the lag chart to have the consumers',
          () => page.locator('#lag-chart .u-legend .u-series').allTextContents(),
          (texts) => demoConsumers.every(({ name }) => texts.some((t) => t.includes(name))),
        );
        expect(lagSeries.length).toBeGreaterThan(demoConsumers.length);
        mkdirSync(artifacts, { recursive: true });
        await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
      } finally {
        await browser.close();
      }
      // Stop now (no catching up), and the demo still removes what it made.
      demo.child.kill('SIGTERM');
      const finished = await demo.exited;
      expect(finished.code, finished.stderr).toBe(0);
      expect(finished.stdout).toMatch(/removed queue/);
    });
  },
);
