/**
 * `backup` to a slave on another host, as upstream did it: the slave takes its backup lock and
 * empties `full_backup.incoming` (`xbackupstart`, ours), the master copies its data directory
 * there with rsync while the backup mode is on, the server's archiver sends the WAL (the stop
 * waits for it), and the slave finishes the set (`xbackupfinish`, ours): it writes the stop's
 * `backup_label` and `tablespace_map`, the SHA-256 of every file it received into the
 * manifest, flushes it all, then rotates and purges as a local backup does.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import {
  type BackupOptions,
  type BackupResult,
  completeSet,
  copyUnderBackupMode,
  startIncoming,
  writeSet,
} from './backup.js';
import { type BackupSet, incomingDir, manifestName } from './backup-sets.js';
import { releaseBackupLock } from './control-files.js';
import { sha256File } from './durable.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { ownerFrom } from './ownership.js';
import { runOnSlave } from './remote.js';
import type { WalmgrSettings } from './settings.js';
import { listTree, syncTree } from './tree-copy.js';

/** Master side. */
export async function takeRemoteBackup(
  settings: WalmgrSettings,
  log: WalmgrLog,
  options: BackupOptions = {},
): Promise<void> {
  const remote = settings.remote;
  const masterData = settings.masterData;
  if (remote === undefined || masterData === undefined) {
    throw new WalmgrError('WRONG_ROLE', 'a remote backup needs master_data and a remote archive', {
      file: settings.file,
    });
  }
  const where = `${remote.host}:${settings.fullBackup}`;
  if (options.notReally) {
    log.info(`would back up ${masterData} into ${where} (rsync over ssh)`);
    return;
  }
  const incoming = runOnSlave(remote, ['xbackupstart', String(process.pid)]).trim();
  let result: BackupResult;
  try {
    log.info(`copying ${masterData} to ${remote.host}:${incoming}`);
    result = await copyUnderBackupMode(settings, masterData, incoming, log, options, remote);
  } catch (error) {
    try {
      runOnSlave(remote, ['xrelease']);
    } catch (release) {
      log.warning(
        `could not release the backup lock on ${remote.host}: ${(release as Error).message}`,
      );
    }
    throw error;
  }
  runOnSlave(remote, ['xbackupfinish'], JSON.stringify(result));
  log.info(
    `backup ${where} complete: WAL ${result.manifest.startWal} to ${result.manifest.stopWal}`,
  );
}

/** Slave side of the start: the lock for the master's PID, an empty incoming directory. */
export function startRemoteBackup(settings: WalmgrSettings, pid: string, log: WalmgrLog): string {
  const holder = Number(pid);
  if (!Number.isInteger(holder) || holder <= 0) {
    throw new WalmgrError('USAGE', `xbackupstart: "${pid}" is not a process id`, { pid });
  }
  const owner = ownerFrom(settings.walmgrData, path.dirname(settings.fullBackup));
  return startIncoming(settings, owner, log, holder);
}

/** Slave side of the end: `input` is the master's {@link BackupResult} (JSON on stdin). */
export async function finishRemoteBackup(
  settings: WalmgrSettings,
  input: string,
  log: WalmgrLog,
): Promise<BackupSet | null> {
  const incoming = incomingDir(settings.fullBackup);
  let result: BackupResult;
  try {
    result = JSON.parse(input) as BackupResult;
  } catch (error) {
    throw new WalmgrError(
      'USAGE',
      `xbackupfinish: stdin is not the master's backup result: ${(error as Error).message}`,
      {},
    );
  }
  try {
    const entries = listTree(incoming, (relative) => (relative === manifestName ? 'no' : 'yes'));
    // What arrived is what the manifest vouches for: restore and drill check it.
    result.manifest.files = entries
      .filter((entry) => entry.kind === 'file')
      .map((entry) => {
        const file = path.join(incoming, entry.path);
        return { path: entry.path, size: statSync(file).size, sha256: sha256File(file) };
      });
    await syncTree(incoming, entries);
    writeSet(incoming, result);
    const owner = ownerFrom(settings.walmgrData, path.dirname(settings.fullBackup));
    return completeSet(settings, incoming, result.manifest, owner, log);
  } finally {
    releaseBackupLock(settings.completedWals);
  }
}
