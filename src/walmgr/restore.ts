/**
 * `restore [SET [DST]]` on the slave: a backup set copied into the data directory, its files
 * checked against the manifest on the way, then the recovery settings: `restore_command =
 * walmgr xrestore`, and either `standby.signal` (upstream's standby that follows the archive
 * until `boot`; with `primary_conninfo`, a streaming one) or, with a recovery target,
 * `recovery.signal` (point-in-time recovery). Upstream moved `full_backup` into place; we copy,
 * so the backup survives its restore.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BackupSet, listSets, manifestName, readManifest } from './backup-sets.js';
import { walmgrCommand } from './commands-path.js';
import { clearControl } from './control-files.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { chownTree, makeDirs, ownerFrom } from './ownership.js';
import {
  hasTarget,
  type RecoveryTarget,
  targetSettings,
  writeAutoConf,
} from './recovery-settings.js';
import { isServerRunning } from './server-process.js';
import type { WalmgrSettings } from './settings.js';
import { copyEntries, listTree, progressPrinter, syncTree } from './tree-copy.js';

export interface RestoreOptions {
  /** Set name (`data.master.0`) or directory; default: the newest. */
  set?: string;
  /** Data directory to restore into; default `slave_data`. */
  destination?: string;
  target?: RecoveryTarget;
  /** Recover to the end of the archive and promote, instead of becoming a standby. */
  recoveryOnly?: boolean;
  notReally?: boolean;
  progressSeconds?: number;
  /** Leave `STOP` alone (a drill restores beside a standby that may be booting). */
  leaveControlFiles?: boolean;
}

export interface RestoreResult {
  set: BackupSet;
  destination: string;
  /** Where the old data directory went (`backup_datadir`), if there was one. */
  movedOld: string | null;
  signal: 'standby.signal' | 'recovery.signal';
}

export function findSet(settings: WalmgrSettings, name: string | undefined): BackupSet {
  const sets = listSets(settings.fullBackup);
  if (name === undefined) {
    const newest = sets[0];
    if (newest === undefined) {
      throw new WalmgrError(
        'NO_BACKUP',
        `no complete backup in ${path.dirname(settings.fullBackup)}`,
        {
          fullBackup: settings.fullBackup,
        },
      );
    }
    return newest;
  }
  const byName = sets.find((set) => set.name === name || set.dir === path.resolve(name));
  if (byName !== undefined) return byName;
  const manifest = existsSync(name) ? readManifest(path.resolve(name)) : null;
  if (manifest !== null) return { name: path.basename(name), dir: path.resolve(name), manifest };
  throw new WalmgrError(
    'NO_BACKUP',
    `no complete backup set "${name}" (sets: ${sets.map((set) => set.name).join(', ') || 'none'})`,
    { set: name },
  );
}

export async function restoreBackup(
  settings: WalmgrSettings,
  log: WalmgrLog,
  options: RestoreOptions = {},
): Promise<RestoreResult> {
  const destination = path.resolve(options.destination ?? needSlaveData(settings));
  const set = findSet(settings, options.set);
  const target = options.target ?? {};
  const standby = !hasTarget(target) && !options.recoveryOnly;
  const signal = standby ? 'standby.signal' : 'recovery.signal';
  if (isServerRunning(destination)) await stopServer(settings, destination, log);
  let movedOld: string | null = null;
  if (existsSync(destination) && readdirSync(destination).length > 0) {
    if (settings.backupDatadir) {
      movedOld = freeName(destination);
      log.info(`${options.notReally ? 'would move' : 'moving'} ${destination} to ${movedOld}`);
      if (!options.notReally) renameSync(destination, movedOld);
    } else {
      log.info(`${options.notReally ? 'would delete' : 'deleting'} ${destination}`);
      if (!options.notReally) rmSync(destination, { recursive: true, force: true });
    }
  }
  log.info(`${options.notReally ? 'would restore' : 'restoring'} ${set.dir} into ${destination}`);
  if (options.notReally) return { set, destination, movedOld, signal };
  const owner = ownerFrom(set.dir);
  try {
    makeDirs(destination, owner);
    const entries = listTree(set.dir, (relative) => (relative === manifestName ? 'no' : 'yes'));
    const print = progressPrinter('restore', (line) => log.info(line), options.progressSeconds);
    const copied = await copyEntries(set.dir, destination, entries, print);
    await syncTree(destination, entries);
    checkAgainstManifest(set, copied);
  } catch (error) {
    // Nothing half-restored stays: the copy goes, the old data directory comes back.
    rmSync(destination, { recursive: true, force: true });
    if (movedOld !== null) renameSync(movedOld, destination);
    throw error;
  }
  relinkTablespaces(set, destination);
  const recovery: Record<string, string> = {
    restore_command: `${walmgrCommand(settings.file)} xrestore %f "%p" %r`,
    // As upstream: a restored server does not archive into the archive it came from.
    archive_command: '/bin/true',
    ...targetSettings(target),
  };
  if (standby && settings.primaryConninfo !== undefined) {
    recovery.primary_conninfo = settings.primaryConninfo;
  }
  writeAutoConf(destination, recovery);
  writeFileSync(path.join(destination, signal), '');
  if (!options.leaveControlFiles) clearControl(settings.completedWals, 'STOP');
  chownTree(destination, owner);
  log.info(`${destination} is ready (${signal}); start the server on it`);
  if (settings.slaveStartCmd !== undefined)
    runCommand('slave_start_cmd', settings.slaveStartCmd, log);
  return { set, destination, movedOld, signal };
}

function checkAgainstManifest(set: BackupSet, copied: { path: string; sha256: string }[]): void {
  const byPath = new Map(copied.map((file) => [file.path, file.sha256]));
  for (const file of set.manifest.files) {
    const actual = byPath.get(file.path);
    if (actual === undefined || actual !== file.sha256) {
      throw new WalmgrError(
        'CHECKSUM_MISMATCH',
        `backup ${set.dir} is damaged: ${file.path} ${actual === undefined ? 'is missing' : `has sha256 ${actual.slice(0, 16)}..., the manifest says ${file.sha256.slice(0, 16)}...`}`,
        { set: set.dir, file: file.path },
      );
    }
  }
}

/** Tablespaces come back under `DST/tmpspc/<oid>` (upstream's layout); the map points there. */
function relinkTablespaces(set: BackupSet, destination: string): void {
  if (set.manifest.tablespaces.length === 0) return;
  const lines = set.manifest.tablespaces.map(
    (space) => `${space.oid} ${path.join(destination, 'tmpspc', space.oid)}`,
  );
  writeFileSync(path.join(destination, 'tablespace_map'), `${lines.join('\n')}\n`);
}

function freeName(dir: string): string {
  for (let n = 0; ; n++) if (!existsSync(`${dir}.${n}`)) return `${dir}.${n}`;
}

async function stopServer(
  settings: WalmgrSettings,
  dataDir: string,
  log: WalmgrLog,
): Promise<void> {
  if (settings.slaveStopCmd === undefined) {
    throw new WalmgrError(
      'SERVER_RUNNING',
      `a server is running on ${dataDir}: stop it first (or set slave_stop_cmd)`,
      { dataDir },
    );
  }
  runCommand('slave_stop_cmd', settings.slaveStopCmd, log);
  if (isServerRunning(dataDir)) {
    throw new WalmgrError(
      'SERVER_RUNNING',
      `the server on ${dataDir} is still running after slave_stop_cmd`,
      {
        dataDir,
      },
    );
  }
}

function runCommand(key: string, command: string, log: WalmgrLog): void {
  log.info(`running ${key}: ${command}`);
  const run = spawnSync('/bin/sh', ['-c', command], { stdio: 'inherit' });
  if (run.status !== 0) {
    throw new WalmgrError(
      'COMMAND_FAILED',
      `${key} failed (exit ${run.status ?? run.signal}): ${command}`,
      {
        command,
      },
    );
  }
}

export function needSlaveData(settings: WalmgrSettings): string {
  if (settings.slaveData === undefined) {
    throw new WalmgrError(
      'WRONG_ROLE',
      `${settings.file} has no slave_data: restore needs it (or give DST)`,
      {
        file: settings.file,
      },
    );
  }
  return settings.slaveData;
}
