/**
 * upstream's `keepalive_stats`: while a job gets no batch, an `{idle: S}` stats line every
 * `keepalive_stats` seconds (S = seconds since the last batch, or since the start), so a
 * monitor that reads the log can tell a quiet queue from a dead job. A batch in hand is work,
 * not idleness: no idle line comes while one is being processed.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { formatStats } from './stats.js';

// setTimeout fires at once for anything longer (with a warning): cap there, about 24.8 days.
export const maxKeepaliveSeconds = Math.floor((2 ** 31 - 1) / 1000);

/** `keepalive_stats` of a job section (seconds, default 300, 0 = no idle lines), checked. */
export function loadKeepaliveStats(cf: Config): number {
  const seconds = cf.getSeconds('keepalive_stats', 300);
  if (seconds > maxKeepaliveSeconds) {
    throw cf.error(
      'keepalive_stats',
      `keepalive_stats must be at most ${maxKeepaliveSeconds} seconds (0: no idle lines)`,
    );
  }
  return seconds;
}

export class IdleStatsLine {
  #lastBatch = performance.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    /** Seconds; 0 = no idle lines. */
    private readonly keepaliveSeconds: number,
  ) {}

  /** When the last batch ended (performance.now() ms), for a successor after a reload. */
  get lastBatch(): number {
    return this.#lastBatch;
  }

  /** The idle clock runs from `since` (default now): a reload keeps the time of the last batch. */
  start(since = performance.now()): void {
    this.#lastBatch = since;
    this.#arm(this.#period() - (performance.now() - since));
  }

  /** A batch is in hand: no idle line until it is done. */
  busy(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A batch ended (finished or not): the idle clock starts again. */
  done(): void {
    this.#lastBatch = performance.now();
    this.#arm(this.#period());
  }

  stop(): void {
    this.busy();
  }

  #period(): number {
    return Math.min(this.keepaliveSeconds, maxKeepaliveSeconds) * 1000;
  }

  #arm(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!(this.keepaliveSeconds > 0)) return;
    this.#timer = setTimeout(
      () => {
        const idle = Math.round((performance.now() - this.#lastBatch) / 1000);
        this.logger.info(formatStats({ idle }));
        this.#arm(this.#period());
      },
      Math.max(0, delayMs),
    );
    // The line must not keep a stopping process alive.
    this.#timer.unref();
  }
}
