import { parseConnString } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';

export interface DemoOptions {
  /** Connection string (libpq key=value or URL) of a database to use; default: a temporary cluster. */
  db?: string | undefined;
  /** Events produced per second. */
  rate: number;
  /** Seconds of producing before the demo stops by itself; 0 = until the signal aborts. */
  duration: number;
  /** Seconds between progress reports. */
  interval: number;
  /** Leave the cluster (stopped, in its directory) or, with `db`, the queue and its consumers. */
  keep: boolean;
  /** Queue name; default: `skytools_demo_` and a random suffix. */
  queue?: string | undefined;
  /** Server binaries for the temporary cluster (default `$SKYTOOLS_PG_BIN`, else embedded). */
  pgBin?: string | undefined;
}

export const demoDefaults = { rate: 200, duration: 30, interval: 1 } as const;
export const maxRate = 100_000;

function badOption(message: string, option: string, value: unknown): SkytoolsError {
  return new SkytoolsError('BAD_OPTION', message, { option, value });
}

/** `--rate`: a whole number of events per second, 1 to 100000. */
export function parseRate(value: string): number {
  const rate = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(rate) || rate < 1 || rate > maxRate) {
    throw badOption(
      `--rate must be a whole number of events per second from 1 to ${maxRate}, not "${value}"`,
      'rate',
      value,
    );
  }
  return rate;
}

/** A number of seconds; `allowZero` for --duration, where 0 means "until Ctrl-C". */
export function parseSeconds(option: string, allowZero: boolean): (value: string) => number {
  return (value: string) => {
    const seconds = Number(value);
    const ok =
      value.trim() !== '' && Number.isFinite(seconds) && (allowZero ? seconds >= 0 : seconds > 0);
    if (!ok) {
      const range = allowZero ? 'a number of seconds, 0 or more' : 'a number of seconds above 0';
      throw badOption(`--${option} must be ${range}, not "${value}"`, option, value);
    }
    return seconds;
  };
}

/** A PgQ queue name we create: plain identifier characters, so it is safe in a table name too. */
export function parseQueueName(value: string): string {
  if (!/^[a-z_][a-z0-9_]{0,50}$/.test(value)) {
    throw badOption(
      `--queue must be lower-case letters, digits and _ (at most 51, not starting with a digit), not "${value}"`,
      'queue',
      value,
    );
  }
  return value;
}

/** The same checks for library callers, who do not come through the CLI's parsers. */
export function checkDemoOptions(options: DemoOptions): void {
  parseRate(String(options.rate));
  parseSeconds('duration', true)(String(options.duration));
  parseSeconds('interval', false)(String(options.interval));
  if (options.queue !== undefined) parseQueueName(options.queue);
  if (options.db !== undefined) parseConnString(options.db);
}
