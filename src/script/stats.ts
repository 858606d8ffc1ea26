/**
 * Counters a job logs periodically as one `{key: value, key2: value}` line: the format
 * SkyTools users' log-parsing monitors read.
 */
export class StatsCounter<K extends string = string> {
  private values = new Map<K, number>();

  increase(key: K, by = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  put(key: K, value: number): void {
    this.values.set(key, value);
  }

  /** The counters since the last take, cleared. */
  take(): Partial<Record<K, number>> {
    const out = Object.fromEntries(this.values) as Partial<Record<K, number>>;
    this.values = new Map();
    return out;
  }
}

/** `{ticks: 3, maint: 0}`; numbers with a fraction keep at most three decimals. */
export function formatStats(stats: Record<string, number>): string {
  const parts = Object.entries(stats).map(
    ([key, value]) => `${key}: ${Number.isInteger(value) ? value : Number(value.toFixed(3))}`,
  );
  return `{${parts.join(', ')}}`;
}
