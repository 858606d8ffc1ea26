/**
 * Table copies run as tasks of the worker's own process (`copy_mode = worker`, ours): the
 * same copy as `londiste CONFIG copy TABLE` (copy-worker.ts: its own consumer,
 * sessions and transactions), started at once instead of after a new process has loaded
 * its modules and connected, which at 100k rows is most of a copy's time. The COPY itself
 * streams bytes, so it does not hold up the worker's replay; the copy's catching-up replay
 * shares the process's CPU with it.
 *
 * A task that fails is started again by the next `ensure` after a pause, as the process
 * launcher starts a dead copy process again; the worker's stop aborts every task and waits
 * for it (a task killed with the process restarts as a killed copy process does).
 */

import { SkytoolsError } from '../../errors.js';
import type { Logger } from '../../pgq/logger.js';
import type { CopyWorker } from './copy-worker.js';

/** What the main worker's replay needs of a copy starter (process or in-process). */
export interface CopyStarter {
  /** Start the table's copy unless one runs. */
  ensure(table: string): void;
  /** No copy is under way (called between batches). */
  idle?(): void;
  /** Stop the copies this starter owns (in-process ones); processes go on by themselves. */
  stop?(): Promise<void>;
}

/** A failed copy task is not started again sooner than this. */
const restartPauseMs = 2000;

export class CopyTasks implements CopyStarter {
  readonly #tasks = new Map<string, Promise<void>>();
  readonly #failedAt = new Map<string, number>();
  readonly #controller = new AbortController();

  constructor(
    private readonly make: (table: string) => CopyWorker,
    private readonly log: Logger,
  ) {}

  /** Whether the table's copy task runs. */
  running(table: string): boolean {
    return this.#tasks.has(table);
  }

  ensure(table: string): void {
    if (this.#tasks.has(table) || this.#controller.signal.aborted) return;
    const failed = this.#failedAt.get(table);
    if (failed !== undefined && performance.now() - failed < restartPauseMs) return;
    this.log.info({ table }, `starting the copy of ${table} in the worker`);
    let worker: CopyWorker;
    try {
      worker = this.make(table);
    } catch (error) {
      this.#failedAt.set(table, performance.now());
      this.log.error({ err: error, table }, `copy of ${table} cannot start`);
      return;
    }
    const task = worker
      .run({ signal: this.#controller.signal })
      .then(
        () => {
          this.#failedAt.delete(table);
        },
        (error: unknown) => {
          if (this.#controller.signal.aborted) return;
          this.#failedAt.set(table, performance.now());
          const stopped = error instanceof SkytoolsError && error.code === 'STOPPED';
          if (!stopped) this.log.error({ err: error, table }, `copy of ${table} failed`);
        },
      )
      .finally(() => this.#tasks.delete(table));
    this.#tasks.set(table, task);
  }

  /** Abort every copy task and wait until each has ended (its transactions rolled back). */
  async stop(): Promise<void> {
    this.#controller.abort();
    await Promise.all(this.#tasks.values());
  }
}
