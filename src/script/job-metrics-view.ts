/**
 * The Prometheus view of a job's `JobMetrics`, built when the job is served: every metric
 * reads the recorder's sums at scrape time, plus the Node process's own metrics.
 */
import client from 'prom-client';
import { packageVersion } from '../version.js';
import type { BatchSums, JobMetrics } from './job-metrics.js';

type Labels = 'queue' | 'consumer';

export interface MetricsPage {
  readonly type: string;
  readonly body: string;
}

/** Render `metrics` in the text exposition format, one call per scrape. */
export function prometheusView(metrics: JobMetrics): () => Promise<MetricsPage> {
  const registry = new client.Registry();
  const info = new client.Gauge({
    name: 'skytools_job_info',
    help: 'The job: program, job_name and the skytools version (always 1)',
    labelNames: ['program', 'job_name', 'version'],
    registers: [registry],
  });
  info.set({ program: metrics.program, job_name: metrics.jobName, version: packageVersion }, 1);
  const sums = () => metrics.batches.values();
  counterOf(registry, 'skytools_job_batches_total', 'Batches finished', sums, (s) => s.batches);
  counterOf(
    registry,
    'skytools_job_events_total',
    'Events in the finished batches',
    sums,
    (s) => s.events,
  );
  counterOf(
    registry,
    'skytools_job_batch_duration_seconds_total',
    'Time spent on the finished batches',
    sums,
    (s) => s.duration,
  );
  new client.Gauge<Labels>({
    name: 'skytools_job_last_batch_timestamp_seconds',
    help: 'When the last batch was finished (Unix time)',
    labelNames: ['queue', 'consumer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sums()) this.set(s.labels, s.last);
    },
  });
  for (const set of metrics.totalsSets) {
    for (const [key, text] of Object.entries(set.help)) {
      new client.Counter({
        name: `skytools_${set.prefix}_${key}_total`,
        help: text,
        registers: [registry],
        collect() {
          this.reset();
          const value = set.read()[key];
          if (value !== undefined && value > 0) this.inc(value);
        },
      });
    }
  }
  for (const gauge of metrics.gauges) {
    new client.Gauge({
      name: gauge.name,
      help: gauge.help,
      labelNames: gauge.labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [labels, value] of gauge.read()) this.set(labels, value);
      },
    });
  }
  client.collectDefaultMetrics({ register: registry, prefix: 'skytools_job_' });
  // A stats line's other keys become counters as they first appear.
  const extra = new Set<string>();
  return async () => {
    for (const s of sums()) {
      for (const key of s.extra.keys()) {
        if (extra.has(key)) continue;
        extra.add(key);
        counterOf(
          registry,
          `skytools_job_${key}_total`,
          `Sum of the "${key}" field of the batch stats lines`,
          sums,
          (each) => each.extra.get(key) ?? 0,
        );
      }
    }
    return { type: registry.contentType, body: await registry.metrics() };
  };
}

/** A counter per queue and consumer whose value is read from the sums at scrape time. */
function counterOf(
  registry: client.Registry,
  name: string,
  help: string,
  sums: () => Iterable<BatchSums>,
  value: (s: BatchSums) => number,
): void {
  new client.Counter<Labels>({
    name,
    help,
    labelNames: ['queue', 'consumer'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of sums()) {
        const v = value(s);
        if (v > 0) this.inc(s.labels, v);
      }
    },
  });
}
