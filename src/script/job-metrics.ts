/**
 * A long-running job's own counters for Prometheus (`metrics_port`): the numbers the job
 * already puts in its `{count: N, duration: S}` stats lines, summed since start, plus the
 * Node process metrics. One object per process; the job lifecycle serves it when the INI
 * asks for it (docs/monitoring.md).
 *
 * Recording is plain sums here; prom-client, the heaviest module a bin would load, is loaded
 * only when the job is served (`job-metrics-view.ts`), so every command starts without it.
 */

export interface BatchLabels {
  readonly queue: string;
  /** The consumer (or cascade worker) name. */
  readonly consumer: string;
}

/** Totals read at scrape time (pgqd keeps its own since start). */
export type TotalsSource = () => Readonly<Record<string, number>>;

/** The sums of one queue and consumer's batches. */
export interface BatchSums {
  readonly labels: BatchLabels;
  batches: number;
  events: number;
  duration: number;
  /** Unix time of the last finished batch. */
  last: number;
  /** A stats line's other numeric keys (`copied`, `applied`, a processor's own). */
  readonly extra: Map<string, number>;
}

export interface TotalsSet {
  readonly prefix: string;
  readonly help: Readonly<Record<string, string>>;
  readonly read: TotalsSource;
}

export interface GaugeSet {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly read: () => Iterable<[Record<string, string>, number]>;
}

const nameOk = /^[a-z_][a-z0-9_]*$/;

export class JobMetrics {
  readonly batches = new Map<string, BatchSums>();
  readonly totalsSets: TotalsSet[] = [];
  readonly gauges: GaugeSet[] = [];

  constructor(
    readonly program: string,
    readonly jobName: string,
  ) {}

  /** One finished batch: the fields of its stats line (`count`, `duration`, ...). */
  batch(labels: BatchLabels, stats: Readonly<Record<string, number>>): void {
    const key = JSON.stringify([labels.queue, labels.consumer]);
    let sums = this.batches.get(key);
    if (sums === undefined) {
      sums = {
        labels: { queue: labels.queue, consumer: labels.consumer },
        batches: 0,
        events: 0,
        duration: 0,
        last: 0,
        extra: new Map(),
      };
      this.batches.set(key, sums);
    }
    const { count, duration, ...rest } = stats;
    sums.batches++;
    if (count !== undefined && count > 0) sums.events += count;
    if (duration !== undefined && duration > 0) sums.duration += duration;
    sums.last = Date.now() / 1000;
    for (const [name, value] of Object.entries(rest)) {
      // A processor's key that is no valid metric name is left to the stats line.
      if (!Number.isFinite(value) || value <= 0) continue;
      if (!nameOk.test(name) || name.startsWith('idle')) continue;
      sums.extra.set(name, (sums.extra.get(name) ?? 0) + value);
    }
  }

  /**
   * Counters kept by the job itself, read at each scrape: `skytools_<prefix>_<key>_total`
   * for each key `read()` returns (pgqd: ticks, maint, retry, errors).
   */
  totals(prefix: string, help: Readonly<Record<string, string>>, read: TotalsSource): void {
    this.totalsSets.push({ prefix, help, read });
  }

  /** A gauge with labels, filled at each scrape by `read()`. */
  gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<[Record<L, string>, number]>,
  ): void {
    this.gauges.push({ name, help, labelNames, read });
  }
}
