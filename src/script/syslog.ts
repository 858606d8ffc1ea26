/**
 * Syslog output for the long-running tools (`syslog = 1`), through the system's `logger`
 * command (util-linux, or BSD's with the same options): Node has no Unix datagram sockets, so
 * one `logger` child reads our lines on stdin and sends each to the local syslog with the
 * priority given in its `<N>` prefix. One child per process, started once; if it dies the
 * tool keeps logging to its other outputs and says so once there.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { SkytoolsError } from '../errors.js';

/** Syslog facility names and their numbers. */
export const syslogFacilities: Readonly<Record<string, number>> = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
};

/** pino level number → syslog severity (debug 7, info 6, warning 4, error 3, critical 2). */
function severity(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

export interface SyslogOptions {
  ident: string;
  /** Facility name as in upstream's configs: daemon, user, local0 .. local7, ... */
  facility: string;
  /** Where `logger` sends; default the system's socket. Tests point it at their own. */
  socket?: string | undefined;
  /** Called once if the `logger` child fails or exits early. */
  onFailure?: (message: string) => void;
}

export interface SyslogWriter {
  write(level: number, message: string): void;
  close(): void;
}

export function startSyslog(options: SyslogOptions): SyslogWriter {
  const facility = syslogFacilities[options.facility.toLowerCase()];
  if (facility === undefined) {
    throw new SkytoolsError(
      'BAD_SETTINGS',
      `unknown syslog_facility "${options.facility}"; one of: ${Object.keys(syslogFacilities).join(', ')}`,
      { key: 'syslog_facility' },
    );
  }
  const args = ['--tag', options.ident, `--id=${process.pid}`, '--prio-prefix'];
  if (options.socket) args.push('--socket', options.socket, '--socket-errors=on');
  let child: ChildProcess | undefined = spawn('logger', args, {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  let failed = false;
  const fail = (message: string) => {
    if (failed) return;
    failed = true;
    child = undefined;
    options.onFailure?.(message);
  };
  child.on('error', (error) =>
    fail(`syslog = 1 needs the "logger" command (util-linux): ${error.message}`),
  );
  child.on('exit', (code) => fail(`the syslog "logger" process exited (code ${code})`));
  child.stdin?.on('error', () => fail('the syslog "logger" process stopped reading'));
  // The child must not keep the tool alive once everything else is done.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    write(level, message) {
      if (!child?.stdin?.writable) return;
      // One message per line: logger reads lines.
      const text = message.replaceAll('\n', ' ');
      child.stdin.write(`<${facility * 8 + severity(level)}>${text}\n`);
    },
    close() {
      const current = child;
      failed = true;
      child = undefined;
      current?.stdin?.end();
    },
  };
}
