/**
 * Wait for a state the test can see: probe until `done` holds, or fail after the deadline
 * naming what was awaited and the last value seen (a function for texts built only then,
 * such as a log file's content).
 */
export async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) {
      const text = typeof what === 'string' ? what : what();
      throw new Error(`timed out waiting for ${text}: ${JSON.stringify(last)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    last = await probe();
  }
  return last;
}
