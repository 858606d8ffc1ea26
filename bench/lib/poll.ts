import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Until `check` says true, asking every `intervalMs` (default 20); fails naming `what` after
 * `timeoutMs` (default 10 minutes: a bench sample that stalls must end the run, not hang it).
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  const interval = options.intervalMs ?? 20;
  const deadline = performance.now() + (options.timeoutMs ?? 600_000);
  while (!(await check())) {
    if (performance.now() > deadline) {
      throw new Error(
        `bench: gave up waiting for ${what} after ${options.timeoutMs ?? 600_000} ms`,
      );
    }
    await sleep(interval);
  }
}
