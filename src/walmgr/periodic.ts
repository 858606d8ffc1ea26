/**
 * `periodic` (spec §7.1): `periodic_command` runs when `command_interval` has passed since its
 * last run, remembered by the mtime of `.walshipping.periodic` in the master's data directory as
 * upstream did. `xarchive` calls it too (the server runs xarchive at least once per segment),
 * so it is light: no database, only a stat when nothing is due.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { WalmgrError } from './errors.js';
import type { WalmgrSettings } from './settings.js';

export type PeriodicResult = 'ran' | 'not-due' | 'not-set';

export function stampFile(settings: WalmgrSettings): string | null {
  return settings.masterData === undefined
    ? null
    : path.join(settings.masterData, '.walshipping.periodic');
}

export function runPeriodic(
  settings: WalmgrSettings,
  log: (line: string) => void,
  notReally = false,
  now = Date.now(),
): PeriodicResult {
  const command = settings.periodicCommand;
  const stamp = stampFile(settings);
  if (command === undefined || stamp === null) return 'not-set';
  const last = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  if (now - last < settings.commandInterval * 1000) return 'not-due';
  log(`${notReally ? 'would run' : 'running'} periodic_command: ${command}`);
  if (notReally) return 'ran';
  // The stamp first: a slow or failing command is not started again by every xarchive.
  closeSync(openSync(stamp, 'a'));
  utimesSync(stamp, now / 1000, now / 1000);
  const run = spawnSync('/bin/sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.status !== 0) {
    throw new WalmgrError(
      'COMMAND_FAILED',
      `periodic_command failed (exit ${run.status ?? run.signal}): ${command}`,
      { command },
    );
  }
  return 'ran';
}
