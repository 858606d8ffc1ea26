/**
 * The progress of one table's copy: rows, bytes, rate and the time left, handed to the
 * caller's `onProgress` at most once a second and written as a log line at most every ten.
 */
import type { Logger } from '../../pgq/logger.js';
import type { CopyProgress } from './copy-table.js';

const reportEveryMs = 1000;
const logEveryMs = 10_000;

export class ProgressMeter {
  readonly #table: string;
  readonly #log: Logger;
  readonly #onProgress: ((progress: CopyProgress) => void) | undefined;
  readonly #expectedRows: number | null;
  readonly #started = performance.now();
  #lastReport = this.#started;
  #lastLog = this.#started;

  constructor(
    table: string,
    expectedRows: number | null,
    log: Logger,
    onProgress?: (progress: CopyProgress) => void,
  ) {
    this.#table = table;
    this.#expectedRows = expectedRows;
    this.#log = log;
    this.#onProgress = onProgress;
  }

  /** Running totals; reports when a second has passed since the last report. */
  update(rows: number, bytes: number): void {
    const now = performance.now();
    if (now - this.#lastReport < reportEveryMs) return;
    this.#lastReport = now;
    this.#report(this.#progress(rows, bytes, now), now - this.#lastLog >= logEveryMs);
  }

  /** The totals at the end: always reported and logged. */
  finish(rows: number, bytes: number): CopyProgress {
    const progress = this.#progress(rows, bytes, performance.now());
    progress.etaSeconds = 0;
    this.#report(progress, false);
    return progress;
  }

  /** Seconds since the meter started. */
  elapsed(): number {
    return (performance.now() - this.#started) / 1000;
  }

  #progress(rows: number, bytes: number, now: number): CopyProgress {
    const seconds = (now - this.#started) / 1000;
    const rate = seconds > 0 ? rows / seconds : 0;
    const expected = this.#expectedRows;
    const etaSeconds =
      expected === null || rate <= 0 ? null : Math.max(0, (expected - rows) / rate);
    return { rows, bytes, expectedRows: expected, rate, etaSeconds };
  }

  #report(progress: CopyProgress, log: boolean): void {
    this.#onProgress?.(progress);
    if (!log) return;
    this.#lastLog = performance.now();
    this.#log.info(
      { table: this.#table, ...progress },
      `copy ${this.#table}: ${describeProgress(progress)}`,
    );
  }
}

/** `120000 of ~1000000 rows, 11.2 MB, 80000 rows/s, 11 s left` */
export function describeProgress(progress: CopyProgress): string {
  const of = progress.expectedRows === null ? '' : ` of ~${progress.expectedRows}`;
  const eta = progress.etaSeconds === null ? '' : `, ${Math.round(progress.etaSeconds)} s left`;
  const mb = (progress.bytes / (1024 * 1024)).toFixed(1);
  return `${progress.rows}${of} rows, ${mb} MB, ${Math.round(progress.rate)} rows/s${eta}`;
}
