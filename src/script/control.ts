/**
 * `-s`, `-k`, `-r`: signal the running job named by the config's pidfile and exit. The texts
 * are upstream's; pgqd keeps those of upstream's C pgqd.
 */
import { signalPidfile } from './pidfile.js';

export interface ControlFlags {
  stop?: boolean;
  kill?: boolean;
  reload?: boolean;
}

export interface ControlTexts {
  noPidfile: string;
  notRunning: string;
}

/** BaseScript's texts. A missing process is a failure (exit 1), as for pgqd. */
export const scriptControlTexts: ControlTexts = {
  noPidfile: 'No pidfile in config, nothing to do',
  notRunning: 'No pidfile, process not running',
};

/** The signal a control switch asks for, or null when none is given. */
export function controlSignal(flags: ControlFlags): NodeJS.Signals | null {
  return flags.stop ? 'SIGINT' : flags.kill ? 'SIGTERM' : flags.reload ? 'SIGHUP' : null;
}

/** Send `signal` to the pidfile's process; returns the exit code. */
export function sendControl(
  pidfile: string | undefined,
  signal: NodeJS.Signals,
  texts: ControlTexts = scriptControlTexts,
): number {
  if (!pidfile) {
    process.stderr.write(`${texts.noPidfile}\n`);
    return 1;
  }
  if (signalPidfile(pidfile, signal) === 'not-running') {
    process.stderr.write(`${texts.notRunning}\n`);
    return 1;
  }
  process.stdout.write(`${signal} sent\n`);
  return 0;
}
