/**
 * docs/monitoring.md: its example block runs as written (with `skytools` on PATH and `$DB` set)
 * and prints the lines the page shows, and its table of metric names is exactly the list the
 * code serves.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { metricSpecs } from '../../src/monitor/index.js';
import { useTestDatabase } from '../harness/database.js';
import { skytoolsBin } from './processes.js';

const page = readFileSync(path.resolve(import.meta.dirname, '../../docs/monitoring.md'), 'utf8');
const db = useTestDatabase();
const bin = mkdtempSync(path.join(os.tmpdir(), 'skytools-docs-monitoring-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function section(from: string, to: string): string {
  return page.slice(page.indexOf(from), page.indexOf(to, page.indexOf(from)));
}

it('runs the example as written and prints what the page shows', async () => {
  // "a queue orders and a consumer billing", with three events ticked and not consumed.
  await db.query(`select pgq.create_queue('orders')`);
  await db.query(`select pgq.set_queue_config('orders', 'ticker_max_count', '1')`);
  await db.query(`select pgq.insert_event('orders', 'x', 'warm-up')`);
  await db.query(`select pgq.ticker('orders')`);
  await db.query(`select pgq.register_consumer('orders', 'billing')`);
  await db.query(`select pgq.insert_event('orders', 'x', 'y') from generate_series(1, 3)`);
  await db.query(`select pgq.ticker('orders')`);
  const example = section('## Example', '## skytools metrics');
  const script = /```sh\n([\s\S]*?)```/.exec(example)?.[1] as string;
  const expected = /```\n([\s\S]*?)```/.exec(
    example.slice(example.indexOf('prints')),
  )?.[1] as string;
  writeFileSync(
    path.join(bin, 'skytools'),
    `#!/bin/sh\nexec "${process.execPath}" "${skytoolsBin}" "$@"\n`,
  );
  chmodSync(path.join(bin, 'skytools'), 0o755);
  const run = spawnSync('bash', ['-e', '-o', 'pipefail', '-c', script], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DB: db.url },
  });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toBe(expected.replaceAll('"shop"', `"${db.name}"`));
});

it('lists exactly the metric names the code serves', () => {
  const table = section('### Metric names', '## Job counters');
  const rows = table
    .split('\n')
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .filter((cells) => /^`skytools_/.test(cells[1] ?? ''));
  expect(rows.map((cells) => cells[1])).toEqual(metricSpecs.map((spec) => `\`${spec.name}\``));
  expect(rows.map((cells) => cells[2])).toEqual(metricSpecs.map((spec) => spec.type));
});
