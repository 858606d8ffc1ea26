/**
 * The main loop of a long-running job, with upstream BaseScript's semantics: `work()` returning
 * true runs again at once; false sleeps `loopDelay` seconds (0: stop when idle; negative: run
 * once); a throw is logged as `Job <name> crashed: <message>`, `reset()` drops state such as
 * connections, and the loop sleeps `exceptionSleep` seconds before trying again. An AbortSignal
 * stops it between calls; `wake()` cuts a sleep short (a NOTIFY arrived).
 */
import type { Logger } from 'pino';
import { abortableSleep } from './sleep.js';

export interface LoopOptions {
  jobName: string;
  logger: Logger;
  /** Seconds to sleep after an idle call; default 1. */
  loopDelay?: number;
  /** Seconds to sleep after a crash; default 20. */
  exceptionSleep?: number;
  signal?: AbortSignal;
  /** Called after a crash, before the sleep. */
  reset?: () => Promise<void> | void;
}

export class ScriptLoop {
  private wakeController = new AbortController();
  /** 1 = last call did work, 0 = idle, -1 = crashed (upstream's work_state). */
  workState: 1 | 0 | -1 = 0;

  constructor(private readonly options: LoopOptions) {}

  /** End the current sleep now. */
  wake(): void {
    this.wakeController.abort();
  }

  async run(work: () => Promise<boolean>): Promise<void> {
    const { signal, logger, jobName } = this.options;
    const loopDelay = this.options.loopDelay ?? 1;
    while (!signal?.aborted) {
      let delay: number;
      try {
        const busy = await work();
        this.workState = busy ? 1 : 0;
        if (busy) continue;
        if (loopDelay <= 0) return; // 0: done when idle; negative: single run
        delay = loopDelay;
      } catch (error) {
        this.workState = -1;
        logger.error(`Job ${jobName} crashed: ${(error as Error)?.message ?? String(error)}`);
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
}
