/**
 * Sleep until woken (a NOTIFY for our queue, a broken connection), the poll interval passes,
 * or the signal aborts. A wake-up that arrives while nobody waits is kept for the next wait.
 */
export class Wakeup {
  #pending = false;
  #wake: (() => void) | null = null;

  wake(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Forget wake-ups from before a fresh look at the queue. */
  clear(): void {
    this.#pending = false;
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.#pending || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }
}

/** A sleep that ends early when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Wakeup().wait(ms, signal);
}
