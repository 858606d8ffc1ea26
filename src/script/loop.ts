/**
 * The main loop of a long-running job, with upstream BaseScript's semantics: `work()` returning
 * true runs again at once; false sleeps `loopDelay` seconds (0: stop when idle; negative: run
 * once); a throw is logged as `Job <name> crashed: <message>` with its stack, `reset()` drops
 * state such as connections, and the loop sleeps `exceptionSleep` seconds before trying again.
 * Errors listed in `exceptionQuiet` are logged as a one-line warning instead while within
 * `exceptionGrace` seconds of the first failure; `exceptionReset` seconds without a failure
 * forget it. An AbortSignal stops the loop between calls; `wake()` cuts a sleep short.
 */
import type { Logger } from 'pino';
import { isQuietError } from './quiet-errors.js';
import { abortableSleep } from './sleep.js';

export interface LoopOptions {
  jobName: string;
  logger: Logger;
  /** Seconds to sleep after an idle call; default 1. */
  loopDelay?: number;
  /** Seconds to sleep after a crash; default 20. */
  exceptionSleep?: number;
  /** Error codes or class names (or `ALL`) that the grace period quiets; default none. */
  exceptionQuiet?: readonly string[];
  /** Seconds after the first failure during which quiet errors are warnings; default 300. */
  exceptionGrace?: number;
  /** Seconds without a failure after which the first failure is forgotten; default 900. */
  exceptionReset?: number;
  signal?: AbortSignal;
  /** Called after a crash, before the sleep. */
  reset?: () => Promise<void> | void;
  /** Milliseconds clock (tests give their own). */
  now?: () => number;
}

/** The loop keys of a job's settings (`exception_*`, job_name). */
export type LoopSettings = Pick<
  Required<LoopOptions>,
  'jobName' | 'exceptionSleep' | 'exceptionQuiet' | 'exceptionGrace' | 'exceptionReset'
>;

/**
 * Loop options whose keys are read from `settings()` each time the loop looks: a reload
 * (SIGHUP) that replaces the job's settings changes them while the loop runs.
 */
export function liveLoopOptions(
  settings: () => LoopSettings,
  rest: Omit<LoopOptions, keyof LoopSettings>,
): LoopOptions {
  return {
    ...rest,
    get jobName() {
      return settings().jobName;
    },
    get exceptionSleep() {
      return settings().exceptionSleep;
    },
    get exceptionQuiet() {
      return settings().exceptionQuiet;
    },
    get exceptionGrace() {
      return settings().exceptionGrace;
    },
    get exceptionReset() {
      return settings().exceptionReset;
    },
  };
}

export class ScriptLoop {
  private wakeController = new AbortController();
  /** 1 = last call did work, 0 = idle, -1 = crashed (upstream's work_state). */
  workState: 1 | 0 | -1 = 0;
  /** When the current run of failures began, and when the last one came (ms), or null. */
  private firstFailure: number | null = null;
  private lastFailure = 0;

  constructor(private readonly options: LoopOptions) {}

  /** End the current sleep now. */
  wake(): void {
    this.wakeController.abort();
  }

  /**
   * Work went well. `work()` returning says so too; a job whose work call runs long (a
   * consumer's batch loop) says it after each unit of work.
   */
  succeeded(): void {
    if (this.firstFailure === null) return;
    const reset = (this.options.exceptionReset ?? 900) * 1000;
    if (this.#now() - this.lastFailure >= reset) this.firstFailure = null;
  }

  async run(work: () => Promise<boolean>): Promise<void> {
    const { signal } = this.options;
    const loopDelay = this.options.loopDelay ?? 1;
    while (!signal?.aborted) {
      let delay: number;
      try {
        const busy = await work();
        this.succeeded();
        this.workState = busy ? 1 : 0;
        if (busy) continue;
        if (loopDelay <= 0) return; // 0: done when idle; negative: single run
        delay = loopDelay;
      } catch (error) {
        this.workState = -1;
        this.#logCrash(error);
        await this.options.reset?.();
        if (loopDelay < 0) throw error;
        delay = this.options.exceptionSleep ?? 20;
      }
      if (this.wakeController.signal.aborted) this.wakeController = new AbortController();
      await abortableSleep(
        delay * 1000,
        signal ? [signal, this.wakeController.signal] : [this.wakeController.signal],
      );
    }
  }

  #logCrash(error: unknown): void {
    const { logger, jobName } = this.options;
    const now = this.#now();
    const grace = (this.options.exceptionGrace ?? 300) * 1000;
    const quiet =
      this.firstFailure !== null &&
      now - this.firstFailure < grace &&
      isQuietError(error, this.options.exceptionQuiet ?? []);
    this.firstFailure ??= now;
    this.lastFailure = now;
    const message = `Job ${jobName} crashed: ${(error as Error)?.message ?? String(error)}`;
    if (quiet) {
      logger.warn(message);
      return;
    }
    const stack = (error as Error)?.stack;
    logger.error(typeof stack === 'string' ? { traceback: stack } : {}, message);
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }
}
