/**
 * Sleep `ms`, or less when any of `signals` aborts; never rejects. Takes several signals
 * itself instead of AbortSignal.any(), which a daemon would call thousands of times per minute
 * against one long-lived signal (each call registers a dependent on it).
 */
export function abortableSleep(
  ms: number,
  signals: AbortSignal | AbortSignal[] | undefined = [],
): Promise<void> {
  const list = Array.isArray(signals) ? signals : [signals];
  if (ms <= 0 || list.some((signal) => signal.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of list) signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const signal of list) signal.addEventListener('abort', done, { once: true });
  });
}
