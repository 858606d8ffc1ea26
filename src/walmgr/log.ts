/**
 * walmgr's log lines, in SkyTools' text format (`2026-12-07 17:50:00,123 4242 INFO text`), on
 * stderr and, when `logfile` is set, appended to it. A logfile that cannot be written never
 * fails a command (archive_command above all): the line goes to stderr with the reason once.
 * Kept free of pino so the per-segment xarchive start-up stays small.
 */
import { appendFileSync } from 'node:fs';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';

export interface WalmgrLog {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

export interface LogOptions {
  logfile?: string | undefined;
  quiet?: boolean;
  verbose?: boolean;
  /** Where stderr lines go (tests); default process.stderr. */
  write?: (line: string) => void;
}

export function createLog(options: LogOptions = {}): WalmgrLog {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  let logfile = options.logfile;
  const emit = (level: LogLevel, message: string) => {
    const line = `${timestamp()} ${process.pid} ${level} ${message}\n`;
    const quietHere = options.quiet === true && level !== 'ERROR' && level !== 'WARNING';
    if (level === 'DEBUG' && !options.verbose) return;
    if (!quietHere) write(line);
    if (logfile === undefined) return;
    try {
      appendFileSync(logfile, line);
    } catch (error) {
      write(
        `${timestamp()} ${process.pid} WARNING cannot write logfile ${logfile}: ${(error as Error).message}; logging to stderr only\n`,
      );
      if (quietHere) write(line);
      logfile = undefined;
    }
  };
  return {
    info: (message) => emit('INFO', message),
    warning: (message) => emit('WARNING', message),
    error: (message) => emit('ERROR', message),
    debug: (message) => emit('DEBUG', message),
  };
}

function timestamp(): string {
  const now = new Date();
  const pad = (value: number, width = 2) => String(value).padStart(width, '0');
  return (
    `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ` +
    `${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())},${pad(now.getMilliseconds(), 3)}`
  );
}
