/**
 * One scrape of 100 queues in 10 databases (the size the monitoring issue names), each queue
 * with a consumer: every series is there, and the time is printed (never asserted). Under
 * SKYTOOLS_STRESS only: making a thousand queues takes a while.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Monitor, MonitorMetrics } from '../../src/monitor/index.js';
import { useTestDatabase } from '../harness/database.js';
import { parsePromText } from './prom-text.js';

const stress = process.env.SKYTOOLS_STRESS === '1';
const db = useTestDatabase();
const databases = 10;
const queues = 100;
let monitor: Monitor;
const urls: string[] = [];

beforeAll(async () => {
  if (!stress) return;
  const names = await Promise.all(
    Array.from({ length: databases }, (_, i) =>
      db.createDatabase(`s${i}`, { template: db.cluster.templateDatabase }),
    ),
  );
  for (const name of names) {
    const pool = db.pool({ database: name, max: 1 });
    await pool.query(
      `select pgq.create_queue('q' || i), pgq.register_consumer('q' || i, 'c') from generate_series(1, ${queues}) i`,
    );
    urls.push(db.url.replace(/[^/]+$/, encodeURIComponent(name)));
  }
  monitor = new Monitor(urls);
}, 600_000);

afterAll(async () => {
  await monitor?.close();
});

it.skipIf(!stress)(`scrapes ${queues} queues in ${databases} databases`, async () => {
  const metrics = new MonitorMetrics();
  await monitor.snapshot(); // sessions opened, what is installed found
  const times: number[] = [];
  const reads: number[] = [];
  let text = '';
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    const snapshot = await monitor.snapshot();
    reads.push(snapshot.durationSeconds);
    text = await metrics.render(snapshot);
    times.push((performance.now() - started) / 1000);
  }
  reads.sort((a, b) => a - b);
  const m = parsePromText(text);
  expect(m.find('skytools_pgq_queue_events_total')).toHaveLength(databases * queues);
  expect(m.find('skytools_pgq_consumer_lag_seconds')).toHaveLength(databases * queues);
  expect(m.find('skytools_up').every((s) => s.value === 1)).toBe(true);
  times.sort((a, b) => a - b);
  process.stderr.write(
    `monitor scale: ${queues} queues x ${databases} databases, one scrape (queries + rendering): median ${times[2]?.toFixed(3)} s, min ${times[0]?.toFixed(3)} s, max ${times[4]?.toFixed(3)} s (reading the databases: median ${reads[2]?.toFixed(3)} s); ${text.length} bytes\n`,
  );
});
