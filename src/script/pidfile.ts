/**
 * Pidfiles of long-running jobs: one live process per pidfile. A pidfile left by a dead
 * process is replaced; one whose process lives refuses the second start. Creation is atomic
 * (hard link of a fully written temporary file), so two processes starting at once cannot
 * both win.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { SkytoolsError } from '../errors.js';
import { fileError } from './file-errors.js';

export interface Pidfile {
  readonly file: string;
  readonly pid: number;
  /** Remove the pidfile if it still holds our pid (a successor may have replaced it). */
  release(): void;
}

/** The pid in `file`, or null when there is no file or it holds no pid. */
export function readPidfile(file: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fileError('PIDFILE_UNREADABLE', 'read pidfile', file, error);
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Whether a process with this pid exists (one of another user counts too). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Write our pid into `file`, replacing a stale one; refuse when its process is alive. */
export function acquirePidfile(file: string, pid = process.pid): Pidfile {
  const temp = `${file}.${pid}.tmp`;
  try {
    writeFileSync(temp, `${pid}\n`);
  } catch (error) {
    throw fileError('PIDFILE_UNWRITABLE', 'write pidfile', file, error);
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(temp, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) {
          throw fileError('PIDFILE_UNWRITABLE', 'write pidfile', file, error);
        }
        const other = readPidfile(file);
        if (other !== null && other !== pid && processAlive(other)) {
          throw new SkytoolsError(
            'PIDFILE_BUSY',
            `Pidfile exists, another process running? (${file}: pid ${other})`,
            { pidfile: file, pid: other },
          );
        }
        // Stale (dead process, or empty/garbage content): take its place.
        try {
          unlinkSync(file);
        } catch {}
      }
    }
  } finally {
    try {
      unlinkSync(temp);
    } catch {}
  }
  return {
    file,
    pid,
    release() {
      try {
        if (readPidfile(file) === pid) unlinkSync(file);
      } catch {}
    },
  };
}

export type SignalResult = 'sent' | 'not-running';

/** Signal the process named by a pidfile (`-s`, `-k`, `-r`). */
export function signalPidfile(file: string, signal: NodeJS.Signals): SignalResult {
  const pid = readPidfile(file);
  if (pid === null || !processAlive(pid)) return 'not-running';
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'not-running';
    throw new SkytoolsError('SIGNAL_FAILED', `cannot send ${signal} to pid ${pid}: ${error}`, {
      pidfile: file,
      pid,
    });
  }
  return 'sent';
}
