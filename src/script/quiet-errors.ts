/**
 * upstream's `exception_quiet`: which errors a job logs as a one-line warning while it is in
 * its grace period. An entry matches an error's code (our SkytoolsError codes, a SQLSTATE) or
 * its class name, on the error or on any error in its `cause` chain; `ALL` matches every error.
 */
export function isQuietError(error: unknown, quiet: readonly string[]): boolean {
  if (quiet.length === 0) return false;
  if (quiet.some((entry) => entry.toUpperCase() === 'ALL')) return true;
  const names = new Set(quiet);
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== null && typeof current === 'object'; depth++) {
    const e = current as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && names.has(e.code)) return true;
    if (typeof e.name === 'string' && names.has(e.name)) return true;
    const className = (current as object).constructor?.name;
    if (className !== undefined && names.has(className)) return true;
    current = e.cause;
  }
  return false;
}
