/**
 * The one line a program using the library writes to stop on Ctrl-C as the jobs do: the
 * first SIGINT or SIGTERM aborts the returned signal (graceful: the batch in hand is
 * finished, then `run()` returns), a second one exits the process with status 1 at once.
 * The library never installs handlers by itself; this does, and only when called.
 */
import { SkytoolsError } from '../errors.js';

export interface StopOnSignalsOptions {
  /** Signals that stop the program; default SIGINT and SIGTERM. */
  signals?: NodeJS.Signals[];
  /** Where the one-line notices go; default stderr, `null` for none. */
  notice?: ((line: string) => void) | null;
}

export function stopOnSignals(options: StopOnSignalsOptions = {}): AbortSignal {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const notice =
    options.notice === undefined
      ? (line: string) => process.stderr.write(`${line}\n`)
      : (options.notice ?? (() => {}));
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      notice(`got ${signal}: stopping after the work in hand (${signal} again: exit at once)`);
      controller.abort(new SkytoolsError('STOPPED', `stopped by ${signal}`, { signal }));
      return;
    }
    notice(`got ${signal} again: exiting at once`);
    process.exit(1);
  };
  for (const signal of signals) process.on(signal, onSignal);
  return controller.signal;
}
