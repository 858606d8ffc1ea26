import { summarize } from './stats.js';

/** One flat result row per workload variant, as bench/results/*.json stores it. */
export type WorkloadResult = Record<string, number | string>;

export interface PairOptions {
  /** Samples of each side. */
  repeat: number;
  /** What one sample measures, e.g. "events/s"; higher is better. */
  unit: string;
  /** Runs before every sample of either side (e.g. empty the tables), not timed. */
  reset?: () => Promise<void>;
  /** One sample of the workload: returns its rate in `unit`. */
  workload: () => Promise<number>;
  /** One sample of the baseline, same work done the plain way. */
  baseline: () => Promise<number>;
  /** Progress line per sample. */
  log: (line: string) => void;
}

/**
 * Runs workload and baseline in turn, alternating which goes first so that slow drifts of the
 * machine (checkpoints, autovacuum, the other core's load) fall on both sides alike; one
 * untimed warm-up of each side first. The ratio compares the medians.
 */
export async function comparePair(options: PairOptions): Promise<WorkloadResult> {
  const ours: number[] = [];
  const plain: number[] = [];
  await options.reset?.();
  await options.workload();
  await options.reset?.();
  await options.baseline();
  for (let i = 0; i < options.repeat; i++) {
    const order = i % 2 === 0 ? ['baseline', 'workload'] : ['workload', 'baseline'];
    for (const side of order) {
      await options.reset?.();
      if (side === 'workload') ours.push(await options.workload());
      else plain.push(await options.baseline());
    }
    options.log(
      `  sample ${i + 1}/${options.repeat}: ${fmt(ours.at(-1))} vs baseline ${fmt(plain.at(-1))} ${options.unit}`,
    );
  }
  const value = summarize(ours);
  const base = summarize(plain);
  return {
    value: round(value.median),
    min: round(value.min),
    max: round(value.max),
    unit: options.unit,
    baseline: round(base.median),
    baseline_min: round(base.min),
    baseline_max: round(base.max),
    ratio: Math.round((value.median / base.median) * 1000) / 1000,
    samples: options.repeat,
  };
}

function round(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 100) / 100;
}

function fmt(n: number | undefined): string {
  return n === undefined ? '-' : round(n).toLocaleString('en-US');
}
