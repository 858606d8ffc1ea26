/**
 * The worker job's stats line, as every other job prints it: one `{count: N, copied: M,
 * duration: S}` INFO line per batch, and while no batch comes, `{idle: S}` every
 * `keepalive_stats` seconds (the consumer jobs' idle line, src/script/idle-stats.ts).
 */
import type { Logger } from 'pino';
import { formatStats, IdleStatsLine } from '../script/index.js';
import type { CascadedBatchStats } from './batch-stats.js';

export class WorkerStatsLine {
  readonly #idle: IdleStatsLine;

  constructor(
    private readonly logger: Logger,
    /** Seconds; 0 = no idle lines. */
    keepaliveSeconds: number,
  ) {
    this.#idle = new IdleStatsLine(logger, keepaliveSeconds);
  }

  /** The idle clock starts now. */
  start(): void {
    this.#idle.start();
  }

  readonly onBatch = (stats: CascadedBatchStats): void => {
    // A tool's own counts (Londiste: applied, ignored) come between copied and duration.
    const { batch: _batch, tick: _tick, count, copied, duration, ...extra } = stats;
    const own = Object.fromEntries(
      Object.entries(extra).filter(
        (entry): entry is [string, number] => typeof entry[1] === 'number',
      ),
    );
    this.logger.info(formatStats({ count, copied, ...own, duration }));
    this.#idle.done();
  };

  stop(): void {
    this.#idle.stop();
  }
}
