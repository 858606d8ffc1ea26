/**
 * A file a job must create (logfile, pidfile) that cannot be: the operator's problem, told in
 * one line that names the file and the reason in words, never a raw ENOENT stack.
 */
import path from 'node:path';
import { type ErrorCode, SkytoolsError } from '../errors.js';

/** Why `file` could not be opened or written, in words. */
export function fileProblem(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return `directory ${path.dirname(path.resolve(file))} does not exist`;
    case 'ENOTDIR':
      return `a parent of ${file} is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return (error as Error)?.message ?? String(error);
  }
}

/** `cannot open logfile /x/y.log: directory /x does not exist` as a typed error. */
export function fileError(
  code: ErrorCode,
  what: string,
  file: string,
  error: unknown,
): SkytoolsError {
  return new SkytoolsError(
    code,
    `cannot ${what} ${file}: ${fileProblem(file, error)}`,
    { file, errno: (error as NodeJS.ErrnoException)?.code },
    { cause: error },
  );
}
