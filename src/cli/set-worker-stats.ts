/**
 * The worker job's stats line, as every other job prints it: one `{count: N, copied: M,
 * duration: S}` INFO line per batch, and while no batch comes, `{idle: S}` every
 * `keepalive_stats` seconds (S = seconds since the last batch, or since the start), so a
 * monitor that reads the log can tell a quiet node from a dead job.
 */
import type { Logger } from 'pino';
import type { CascadedBatchStats } from '../cascade/batch-stats.js';
import { formatStats } from '../script/index.js';

export class WorkerStatsLine {
  #lastBatch = performance.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    /** Seconds; 0 = no idle lines. */
    private readonly keepaliveSeconds: number,
  ) {}

  /** The idle clock starts now. */
  start(): void {
    this.#lastBatch = performance.now();
    this.#schedule();
  }

  readonly onBatch = (stats: CascadedBatchStats): void => {
    this.logger.info(
      formatStats({ count: stats.count, copied: stats.copied, duration: stats.duration }),
    );
    this.#lastBatch = performance.now();
    this.#schedule();
  };

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (!(this.keepaliveSeconds > 0)) return;
    this.#timer = setTimeout(() => {
      const idle = Math.round((performance.now() - this.#lastBatch) / 1000);
      this.logger.info(formatStats({ idle }));
      this.#schedule();
    }, this.keepaliveSeconds * 1000);
    // The line must not keep a stopping process alive.
    this.#timer.unref();
  }
}
