import { CommanderError } from 'commander';
import { SkytoolsError } from '../errors.js';

/** Progress and notices go to stderr, so stdout stays clean for results. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * Turn a failure into one clear line on stderr and an exit code. Expected failures
 * (SkytoolsError) print only their message; anything else is a bug and keeps its stack.
 */
export function reportFailure(program: string, error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode;
  if (error instanceof SkytoolsError) {
    process.stderr.write(`${program}: error: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(
    `${program}: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`,
  );
  return 2;
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
