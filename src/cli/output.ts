import { SkytoolsError } from '../errors.js';

export { reportFailure } from '../script/report-failure.js';

/** Progress and notices go to stderr, so stdout stays clean for results. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Parse a TCP port option, or fail with a message naming the option. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `--port must be a number from 1 to 65535, not "${value}"`,
    );
  }
  return port;
}
