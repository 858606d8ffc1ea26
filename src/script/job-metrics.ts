/**
 * A long-running job's own counters for Prometheus (`metrics_port`): the numbers the job
 * already puts in its `{count: N, duration: S}` stats lines, summed since start, plus the
 * Node process metrics. One object per process; the job lifecycle serves it when the INI
 * asks for it (docs/monitoring.md).
 */
import client from 'prom-client';
import { packageVersion } from '../version.js';

export interface BatchLabels {
  readonly queue: string;
  /** The consumer (or cascade worker) name. */
  readonly consumer: string;
}

/** Totals read at scrape time (pgqd keeps its own since start). */
export type TotalsSource = () => Readonly<Record<string, number>>;

const nameOk = /^[a-z_][a-z0-9_]*$/;

export class JobMetrics {
  readonly registry = new client.Registry();
  readonly #batches: client.Counter<'queue' | 'consumer'>;
  readonly #events: client.Counter<'queue' | 'consumer'>;
  readonly #duration: client.Counter<'queue' | 'consumer'>;
  readonly #lastBatch: client.Gauge<'queue' | 'consumer'>;
  /** Counters for a stats line's other keys (`copied`, `applied`, a processor's own). */
  readonly #extra = new Map<string, client.Counter<'queue' | 'consumer'>>();
  #processMetrics = false;

  constructor(program: string, jobName: string) {
    const info = new client.Gauge({
      name: 'skytools_job_info',
      help: 'The job: program, job_name and the skytools version (always 1)',
      labelNames: ['program', 'job_name', 'version'],
      registers: [this.registry],
    });
    info.set({ program, job_name: jobName, version: packageVersion }, 1);
    this.#batches = this.#counter('skytools_job_batches_total', 'Batches finished');
    this.#events = this.#counter('skytools_job_events_total', 'Events in the finished batches');
    this.#duration = this.#counter(
      'skytools_job_batch_duration_seconds_total',
      'Time spent on the finished batches',
    );
    this.#lastBatch = new client.Gauge({
      name: 'skytools_job_last_batch_timestamp_seconds',
      help: 'When the last batch was finished (Unix time)',
      labelNames: ['queue', 'consumer'],
      registers: [this.registry],
    });
  }

  /** The Node process's own metrics (CPU, memory, event loop), once the job is served. */
  withProcessMetrics(): this {
    if (!this.#processMetrics) {
      client.collectDefaultMetrics({ register: this.registry, prefix: 'skytools_job_' });
      this.#processMetrics = true;
    }
    return this;
  }

  /** One finished batch: the fields of its stats line (`count`, `duration`, ...). */
  batch(labels: BatchLabels, stats: Readonly<Record<string, number>>): void {
    const { count, duration, ...rest } = stats;
    const at = { queue: labels.queue, consumer: labels.consumer };
    this.#batches.inc(at);
    if (count !== undefined && count > 0) this.#events.inc(at, count);
    if (duration !== undefined && duration > 0) this.#duration.inc(at, duration);
    this.#lastBatch.set(at, Date.now() / 1000);
    for (const [key, value] of Object.entries(rest)) {
      if (!Number.isFinite(value) || value <= 0) continue;
      this.#extraCounter(key)?.inc(at, value);
    }
  }

  /**
   * Counters kept by the job itself, read at each scrape: `skytools_<prefix>_<key>_total`
   * for each key `read()` returns (pgqd: ticks, maint, retry, errors).
   */
  totals(prefix: string, help: Readonly<Record<string, string>>, read: TotalsSource): void {
    for (const [key, text] of Object.entries(help)) {
      new client.Counter({
        name: `skytools_${prefix}_${key}_total`,
        help: text,
        registers: [this.registry],
        collect() {
          this.reset();
          const value = read()[key];
          if (value !== undefined && value > 0) this.inc(value);
        },
      });
    }
  }

  /** A gauge with labels, filled at each scrape by `read()`. */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<[Record<L, string>, number]>,
  ): void {
    new client.Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels as client.LabelValues<L>, value);
      },
    });
  }

  /** The text exposition format. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  #counter(name: string, help: string): client.Counter<'queue' | 'consumer'> {
    return new client.Counter({
      name,
      help,
      labelNames: ['queue', 'consumer'],
      registers: [this.registry],
    });
  }

  #extraCounter(key: string): client.Counter<'queue' | 'consumer'> | undefined {
    const name = `skytools_job_${key}_total`;
    // A processor's key that is no valid metric name is left to the stats line.
    if (!nameOk.test(key) || key.startsWith('idle')) return undefined;
    let counter = this.#extra.get(name);
    if (counter === undefined) {
      counter = this.#counter(name, `Sum of the "${key}" field of the batch stats lines`);
      this.#extra.set(name, counter);
    }
    return counter;
  }
}
