/**
 * How every command and job turns a failure into one clear line on stderr and an exit code.
 * It lives here, below the CLIs, because the job lifecycle (job-process.ts) and the tool
 * runners report failures the same way the commands do.
 */
import { CommanderError } from 'commander';
import { SkytoolsError } from '../errors.js';

/**
 * Expected failures (SkytoolsError) print only their message and give 1; a commander usage
 * error keeps its own code; anything else is a bug and keeps its stack (exit code 2).
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
