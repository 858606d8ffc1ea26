/**
 * Logging for the command-line tools: pino underneath (so library users can hand in their
 * own pino-compatible logger), SkyTools-style text lines by default
 * (`2026-01-31 12:00:00,123 4242 INFO message`), one JSON object per line with
 * `--log-format json`. Bound context (host, db, queue) appears in every line, so no error is
 * ever a bare "ERROR".
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import { fileError } from './file-errors.js';
import { type SyslogOptions, startSyslog } from './syslog.js';

export type LogFormat = 'text' | 'json';

export interface LogOptions {
  /** trace, debug, info (default) or warn: from -v, -vv and -q. */
  level?: pino.Level;
  format?: LogFormat;
  /** Append to this file (reopened by `reopen()`, e.g. after logrotate on SIGHUP). */
  logfile?: string | undefined;
  /** Also write to stderr (off with -q and in daemon mode). */
  console?: boolean;
  /** Fields in every line. */
  base?: Record<string, unknown>;
  /** Also send every line to syslog (`syslog = 1`). */
  syslog?: SyslogOptions | undefined;
  /** stderr failed (a closed pipe): console output stops, then this is called once. */
  onConsoleLost?: (error: NodeJS.ErrnoException) => void;
}

export interface ScriptLogger {
  readonly logger: Logger;
  /** Reopen the logfile (after it was rotated away). */
  reopen(): void;
  close(): void;
}

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARNING',
  50: 'ERROR',
  60: 'CRITICAL',
};

// Context fields shown before the message, in this order; other bindings follow them.
const contextOrder = ['host', 'db', 'queue', 'consumer'];
const plainFields = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'err', 'traceback']);

export function createScriptLogger(options: LogOptions = {}): ScriptLogger {
  const format = options.format ?? 'text';
  const file = options.logfile;
  let fd: number | undefined;
  const open = () => {
    if (file) fd = openLogfile(file);
  };
  // At start a logfile that cannot be opened stops the job with one line (LOGFILE_UNWRITABLE).
  open();
  const syslog = options.syslog ? startSyslog(options.syslog) : undefined;
  // stderr closed under us (`pgqd x.ini 2>&1 | head`): an EPIPE 'error' event without a
  // listener would end the process with a stack and leave the pidfile behind.
  let consoleOpen = options.console !== false;
  const onConsoleError = (error: NodeJS.ErrnoException) => {
    if (!consoleOpen) return;
    consoleOpen = false;
    options.onConsoleLost?.(error);
  };
  if (consoleOpen) process.stderr.on('error', onConsoleError);
  // An error's stack is for debugging: shown from -v on, its reason always.
  const stacks = (pino.levels.values[options.level ?? 'info'] ?? 30) <= 20;
  const destination = {
    write(line: string) {
      const out = format === 'json' ? line : textLine(line, stacks);
      if (fd !== undefined) writeSync(fd, out);
      if (consoleOpen) process.stderr.write(out);
      // Syslog stamps time, host and pid itself: it gets the line without our prefix.
      if (syslog) syslog.write(Number(JSON.parse(line).level), syslogText(line));
    },
  };
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
  return {
    logger,
    reopen() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      try {
        open();
      } catch (error) {
        // After a rotation into a directory that is gone the job keeps running: the console
        // (and syslog) still get every line, and the next SIGHUP tries again.
        logger.error(`${(error as Error).message}; logging to the console only`);
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      // Once the console is lost the listener stays: later writes (the exit line) fail too.
      if (consoleOpen) process.stderr.off('error', onConsoleError);
      syslog?.close();
    },
  };
}

/** Open `file` for appending, or a typed error naming it and why (`directory ... does not exist`). */
export function openLogfile(file: string): number {
  try {
    return openSync(file, 'a');
  } catch (error) {
    throw fileError('LOGFILE_UNWRITABLE', 'open logfile', file, error);
  }
}

/** A text line without time and pid, which syslog adds itself. */
function syslogText(json: string): string {
  // One syslog message per record: a traceback's lines stay in the logfile.
  return (textLine(json).split('\n')[0] ?? '').replace(/^\S+ \S+ \S+ /, '').trimEnd();
}

function textLine(json: string, stacks = false): string {
  const record = JSON.parse(json) as Record<string, unknown>;
  const time = new Date(String(record.time));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const stamp =
    `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ` +
    `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())},` +
    pad(time.getMilliseconds(), 3);
  const level = levelNames[Number(record.level)] ?? String(record.level);
  const keys = [
    ...contextOrder.filter((key) => key in record),
    ...Object.keys(record).filter((key) => !plainFields.has(key) && !contextOrder.includes(key)),
  ];
  const context = keys.map((key) => `${key}=${String(record[key])}`).join(' ');
  const err = errorFields(record.err);
  const message = String(record.msg ?? '') + (err === null ? '' : reasonText(err));
  // A crash's stack goes on the lines after it, indented, as upstream prints a traceback;
  // an error's stack the same way, at debug level.
  const stack =
    typeof record.traceback === 'string'
      ? record.traceback
      : stacks && typeof err?.stack === 'string'
        ? err.stack
        : '';
  const traceback = stack
    .split('\n')
    .slice(1)
    .map((line) => `    ${line.trim()}\n`)
    .join('');
  return `${stamp} ${record.pid} ${level} ${context ? `[${context}] ` : ''}${message}\n${traceback}`;
}

interface ErrorFields {
  message?: unknown;
  code?: unknown;
  sqlstate?: unknown;
  detail?: unknown;
  hint?: unknown;
  stack?: unknown;
}

function errorFields(value: unknown): ErrorFields | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return { message: String(value) };
  return value as ErrorFields;
}

/**
 * `: <message> [CODE, SQLSTATE 55P03] DETAIL: ... HINT: ...`, the reason of a failure as the
 * text line shows it (JSON lines carry the whole `err`).
 */
function reasonText(err: ErrorFields): string {
  const message = typeof err.message === 'string' ? withoutRepeatedCause(err.message) : '';
  const sqlstate =
    typeof err.sqlstate === 'string'
      ? err.sqlstate
      : typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) && /\d/.test(err.code)
        ? err.code
        : undefined;
  const codes: string[] = [];
  if (typeof err.code === 'string' && err.code !== sqlstate) codes.push(err.code);
  if (sqlstate !== undefined) codes.push(`SQLSTATE ${sqlstate}`);
  let text = `: ${message || '(no message)'}`;
  if (codes.length > 0) text += ` [${codes.join(', ')}]`;
  if (typeof err.detail === 'string' && err.detail !== '') text += ` DETAIL: ${err.detail}`;
  if (typeof err.hint === 'string' && err.hint !== '') text += ` HINT: ${err.hint}`;
  return text;
}

/**
 * pino appends each cause's message to the error's (`outer: inner`); our errors often quote
 * their cause already, so a tail that the head ends with is said once.
 */
function withoutRepeatedCause(message: string): string {
  let text = message;
  let at = text.indexOf(': ');
  while (at !== -1) {
    const head = text.slice(0, at);
    const tail = text.slice(at + 2);
    if (tail !== '' && head.endsWith(tail)) {
      text = head;
      at = text.indexOf(': ');
    } else {
      at = text.indexOf(': ', at + 1);
    }
  }
  return text;
}

/** -q → warnings only; -v → debug; -vv → trace. */
export function levelFromFlags(quiet: boolean, verbose: number): pino.Level {
  if (verbose >= 2) return 'trace';
  if (verbose === 1) return 'debug';
  return quiet ? 'warn' : 'info';
}
