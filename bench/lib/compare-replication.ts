import type { WorkloadResult } from './compare.js';
import { summarize } from './stats.js';

// Pairing of the Londiste workloads: as comparePair (one untimed warm-up of each side, then
// alternating samples, medians compared), but the Londiste side may be missing or fail
// without losing the native baseline: its reason is reported as `londiste_missing`.

export interface ReplicationCompareOptions {
  repeat: number;
  /** What a sample returns, e.g. "rows/s"; higher is better. */
  unit: string;
  /** One sample of native logical replication. */
  native: () => Promise<number>;
  /** One sample of Londiste, or why it cannot run here. */
  londiste: (() => Promise<number>) | string;
  log: (line: string) => void;
}

export async function compareReplication(
  options: ReplicationCompareOptions,
): Promise<WorkloadResult> {
  const ours: number[] = [];
  const native: number[] = [];
  let missing = typeof options.londiste === 'string' ? options.londiste : undefined;
  const londiste = async (): Promise<number | undefined> => {
    if (missing !== undefined || typeof options.londiste === 'string') return undefined;
    try {
      return await options.londiste();
    } catch (error) {
      missing = `failed: ${(error as Error).message}`;
      options.log(`  londiste side ${missing}`);
      return undefined;
    }
  };
  await londiste();
  await options.native();
  for (let i = 0; i < options.repeat; i++) {
    const nativeFirst = i % 2 === 0;
    if (!nativeFirst) push(ours, await londiste());
    native.push(await options.native());
    if (nativeFirst) push(ours, await londiste());
    options.log(
      `  sample ${i + 1}/${options.repeat}: londiste ${fmt(ours.at(-1))} vs native ${fmt(native.at(-1))} ${options.unit}`,
    );
  }
  const base = summarize(native);
  const result: WorkloadResult = {
    unit: options.unit,
    baseline: round(base.median),
    baseline_min: round(base.min),
    baseline_max: round(base.max),
    samples: options.repeat,
  };
  if (missing !== undefined || ours.length < options.repeat) {
    return { ...result, londiste_missing: missing ?? 'no samples' };
  }
  const value = summarize(ours);
  return {
    value: round(value.median),
    min: round(value.min),
    max: round(value.max),
    ...result,
    ratio: Math.round((value.median / base.median) * 1000) / 1000,
  };
}

function push(samples: number[], value: number | undefined): void {
  if (value !== undefined) samples.push(value);
}

export function round(n: number): number {
  return n >= 100 ? Math.round(n) : Math.round(n * 100) / 100;
}

function fmt(n: number | undefined): string {
  return n === undefined ? '-' : round(n).toLocaleString('en-US');
}
