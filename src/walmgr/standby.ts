/**
 * `boot`, `pause`, `continue` on the slave. `boot` makes `STOP` (xrestore stops waiting and
 * hands over the partial segment, as upstream) and, PostgreSQL having dropped trigger files
 * (16), asks a running standby to promote as `pg_ctl promote` does: a `promote` file in the
 * data directory and SIGUSR1 to the postmaster.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { clearControl, setControl } from './control-files.js';
import type { WalmgrLog } from './log.js';
import { chownFile, makeDirs, ownerFrom } from './ownership.js';
import { postmasterPid } from './server-process.js';
import type { WalmgrSettings } from './settings.js';

export function boot(
  settings: WalmgrSettings,
  log: WalmgrLog,
  notReally = false,
): 'promoted' | 'stop-set' {
  const completed = settings.completedWals;
  log.info(`${notReally ? 'would create' : 'creating'} ${completed}/STOP`);
  if (!notReally) {
    makeDirs(completed, ownerFrom(path.dirname(completed)));
    setControl(completed, 'STOP');
  }
  const dataDir = settings.slaveData;
  const pid = dataDir === undefined ? null : postmasterPid(dataDir);
  if (dataDir === undefined || pid === null || !existsSync(path.join(dataDir, 'standby.signal'))) {
    return 'stop-set';
  }
  log.info(`${notReally ? 'would promote' : 'promoting'} the standby on ${dataDir} (pid ${pid})`);
  if (!notReally) {
    const file = path.join(dataDir, 'promote');
    writeFileSync(file, '');
    chownFile(file, ownerFrom(dataDir));
    process.kill(pid, 'SIGUSR1');
  }
  return 'promoted';
}

export function pause(settings: WalmgrSettings, log: WalmgrLog, notReally = false): void {
  log.info(`${notReally ? 'would create' : 'creating'} ${settings.completedWals}/PAUSE`);
  if (!notReally) setControl(settings.completedWals, 'PAUSE');
}

export function resume(settings: WalmgrSettings, log: WalmgrLog, notReally = false): void {
  log.info(`${notReally ? 'would remove' : 'removing'} ${settings.completedWals}/PAUSE`);
  if (!notReally) clearControl(settings.completedWals, 'PAUSE');
}
