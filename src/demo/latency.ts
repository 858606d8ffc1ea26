/**
 * Latency percentiles in constant memory: samples fall into buckets 2% wide on a log scale,
 * so a long demo keeps a few hundred counters instead of every sample, and a reported
 * percentile is within 2% of the true one.
 */
const growth = Math.log(1.02);
/** Below this (in ms) everything counts as one bucket: the clock's resolution anyway. */
const floorMs = 0.01;

export class LatencyHistogram {
  readonly #buckets = new Map<number, number>();
  #count = 0;
  #max = 0;

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  record(ms: number): void {
    const value = Math.max(ms, floorMs);
    const bucket = Math.floor(Math.log(value / floorMs) / growth);
    this.#buckets.set(bucket, (this.#buckets.get(bucket) ?? 0) + 1);
    this.#count++;
    if (value > this.#max) this.#max = value;
  }

  /** The value below which `fraction` (0..1) of the samples lie; null without samples. */
  percentile(fraction: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.max(1, Math.ceil(fraction * this.#count));
    const ordered = [...this.#buckets.entries()].sort((a, b) => a[0] - b[0]);
    let seen = 0;
    for (const [bucket, n] of ordered) {
      seen += n;
      // The bucket's upper bound, but never above the largest sample really seen.
      if (seen >= rank) return Math.min(floorMs * Math.exp((bucket + 1) * growth), this.#max);
    }
    return this.#max;
  }

  reset(): void {
    this.#buckets.clear();
    this.#count = 0;
    this.#max = 0;
  }
}
