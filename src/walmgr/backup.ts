/**
 * `backup` on the master: a non-exclusive base backup through the SQL backup API, so it works
 * where only the server binaries exist. One session holds the backup open
 * (`pg_backup_start`/`pg_backup_stop`, or `pg_start_backup`/`pg_stop_backup(false)` before 15)
 * while the data directory and the tablespaces are copied into `full_backup.incoming` with a
 * SHA-256 per file; the `backup_label` and `tablespace_map` that the stop returns are written
 * into the set with walmgr's manifest, then the sets rotate (`keep_backups`) and archived WAL
 * no kept backup needs is purged. `BACKUPLOCK` keeps a second backup out.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readlinkSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import {
  type BackupManifest,
  type BackupSet,
  incomingDir,
  listSets,
  manifestName,
  rotateSets,
} from './backup-sets.js';
import { archiveBackupWal, backupHistoryName } from './backup-wal.js';
import { releaseBackupLock, takeBackupLock } from './control-files.js';
import { fsyncDir, writeDurable } from './durable.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { openMaster, serverVersionNum } from './master-session.js';
import { chownTree, makeDirs, type Owner, ownerFrom } from './ownership.js';
import { purgeWals } from './purge.js';
import { rsyncEntries } from './remote.js';
import type { RemoteSlave, WalmgrSettings } from './settings.js';
import {
  type CopiedFile,
  copyEntries,
  listTree,
  progressPrinter,
  syncTree,
  type TreeEntry,
} from './tree-copy.js';

/** Top-level entries of a data directory a backup leaves out or keeps empty (PostgreSQL docs). */
const skipped = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'backup_label.old',
  'tablespace_map',
  'tablespace_map.old',
  'backup_manifest',
  'standby.signal',
  'recovery.signal',
  'promote',
  'current_logfiles',
  manifestName,
]);
const emptied = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_stat_tmp',
  'pg_subtrans',
  'pg_tblspc',
]);

/** What of the data directory goes into a backup (`empty`: the directory, not its contents). */
function keepInBackup(relative: string, kind: TreeEntry['kind']): 'yes' | 'no' | 'empty' {
  const parts = relative.split('/');
  const top = parts[0] as string;
  if (parts.length === 1) {
    if (skipped.has(top)) return 'no';
    // pg_wal keeps its subdirectories (archive_status, summaries), empty.
    if (emptied.has(top) && kind === 'dir') return top === 'pg_wal' ? 'yes' : 'empty';
  }
  if (top === 'pg_wal') return kind === 'dir' ? 'empty' : 'no';
  if (/(^|\/)pgsql_tmp/.test(relative) || relative.endsWith('pg_internal.init')) return 'no';
  return 'yes';
}

export interface BackupOptions {
  notReally?: boolean;
  label?: string;
  /** Progress lines every so many seconds (default 2). */
  progressSeconds?: number;
}

/**
 * The backup lock taken and the directory a new set is written into made empty (what a
 * backup that did not finish left is removed); the caller releases the lock.
 */
export function startIncoming(
  settings: WalmgrSettings,
  owner: Owner | null,
  log: WalmgrLog,
  pid = process.pid,
): string {
  makeDirs(settings.completedWals, owner);
  makeDirs(path.dirname(settings.fullBackup), owner);
  takeBackupLock(settings.completedWals, pid, (holder) =>
    log.warning(`removing a stale backup lock of pid ${holder}, which is gone`),
  );
  const incoming = incomingDir(settings.fullBackup);
  if (existsSync(incoming)) {
    log.warning(`removing ${incoming}, left by a backup that did not finish`);
    rmSync(incoming, { recursive: true, force: true });
  }
  return incoming;
}

export async function takeBackup(
  settings: WalmgrSettings,
  log: WalmgrLog,
  options: BackupOptions = {},
): Promise<BackupSet | null> {
  const masterData = settings.masterData;
  if (masterData === undefined) {
    throw new WalmgrError(
      'WRONG_ROLE',
      `backup needs a master config (with master_data); ${settings.file} has none`,
      { file: settings.file },
    );
  }
  const owner = ownerFrom(masterData);
  if (options.notReally) {
    log.info(`would back up ${masterData} into ${settings.fullBackup}`);
    return null;
  }
  const incoming = startIncoming(settings, owner, log);
  try {
    const { manifest } = await copyUnderBackupMode(settings, masterData, incoming, log, options);
    return completeSet(settings, incoming, manifest, owner, log);
  } finally {
    releaseBackupLock(settings.completedWals, process.pid);
  }
}

/**
 * A set whose manifest is written becomes `full_backup`: handed to `owner`, older sets
 * rotated (`keep_backups`), archived WAL no kept set needs purged.
 */
export function completeSet(
  settings: WalmgrSettings,
  incoming: string,
  manifest: BackupManifest,
  owner: Owner | null,
  log: WalmgrLog,
): BackupSet | null {
  chownTree(incoming, owner);
  const expire = (dir: string) => runArchiveCommand(settings, dir, log);
  for (const dir of rotateSets(settings.fullBackup, settings.keepBackups, expire)) {
    log.info(`deleted old backup ${dir}`);
  }
  renameSync(incoming, settings.fullBackup);
  fsyncDir(path.dirname(settings.fullBackup));
  log.info(
    `backup ${settings.fullBackup} complete: ${manifest.files.length} files, WAL ${manifest.startWal} to ${manifest.stopWal}`,
  );
  const purged = purgeWals(settings, log);
  if (purged.length > 0) log.info(`purged ${purged.length} archived WAL files no backup needs`);
  return listSets(settings.fullBackup)[0] ?? null;
}

/** What the backup mode gave: the manifest (no files when remote) and the stop's files. */
export interface BackupResult {
  manifest: BackupManifest;
  labelfile: string;
  spcmapfile: string | null;
}

/** The copy between the start and the stop of the backup mode (rsync to a remote slave). */
export async function copyUnderBackupMode(
  settings: WalmgrSettings,
  masterData: string,
  incoming: string,
  log: WalmgrLog,
  options: BackupOptions,
  remote?: RemoteSlave,
): Promise<BackupResult> {
  const client = await openMaster(settings.masterDb);
  try {
    const version = await serverVersionNum(client);
    await checkServer(client, masterData);
    const label = options.label ?? `walmgr ${new Date().toISOString()}`;
    const startTime = new Date().toISOString();
    const started = await client.query<{ lsn: string; wal: string; tli: string }>(
      version >= 150000
        ? 'select lsn::text, pg_walfile_name(lsn) as wal from pg_backup_start($1, true) as lsn'
        : 'select lsn::text, pg_walfile_name(lsn) as wal from pg_start_backup($1, true, false) as lsn',
      [label],
    );
    const startLsn = started.rows[0]?.lsn as string;
    log.info(`backup started at ${startLsn} (label "${label}")`);
    let stopped = false;
    try {
      const tablespaces = await tablespacesOf(client, masterData);
      const entries = listTree(masterData, keepInBackup);
      for (const space of tablespaces) {
        const root = path.join(masterData, 'pg_tblspc', space.oid);
        entries.push({ path: `tmpspc/${space.oid}`, kind: 'dir', size: 0 });
        for (const entry of listTree(root, () => 'yes')) {
          entries.push({
            ...entry,
            path: `tmpspc/${space.oid}/${entry.path}`,
            source: `pg_tblspc/${space.oid}/${entry.path}`,
          });
        }
      }
      const print = progressPrinter('backup', (line) => log.info(line), options.progressSeconds);
      let files: CopiedFile[] = [];
      let synced = Promise.resolve();
      if (remote !== undefined) rsyncEntries(remote, masterData, entries, incoming);
      else {
        files = await copyEntries(masterData, incoming, entries, print);
        // The flush runs while the server ends the backup mode; the manifest waits for both.
        synced = syncTree(incoming, entries);
      }
      // Awaited below; this only keeps a failure meanwhile from being reported as unhandled.
      synced.catch(() => {});
      const stop = await client.query<{
        lsn: string;
        labelfile: string;
        spcmapfile: string | null;
        wal: string;
      }>(
        // No wait for the archiver here: archiveBackupWal below puts the WAL in place.
        version >= 150000
          ? 'select lsn::text, labelfile, spcmapfile, pg_walfile_name(lsn) as wal from pg_backup_stop(false)'
          : 'select lsn::text, labelfile, spcmapfile, pg_walfile_name(lsn) as wal from pg_stop_backup(false, false)',
      );
      stopped = true;
      const row = stop.rows[0] as {
        lsn: string;
        labelfile: string;
        spcmapfile: string | null;
        wal: string;
      };
      await synced;
      const startMatch = /START WAL LOCATION: ([0-9A-F]+\/[0-9A-F]+) \(file ([0-9A-F]{24})\)/.exec(
        row.labelfile,
      );
      const startWal = startMatch?.[2] ?? (started.rows[0]?.wal as string);
      const timeline = /START TIMELINE: (\d+)/.exec(row.labelfile)?.[1];
      const walSegmentBytes = Number(
        (
          await client.query<{ v: string }>(
            "select setting::bigint * case unit when 'B' then 1 when 'MB' then 1048576 else 8192 end as v from pg_settings where name = 'wal_segment_size'",
          )
        ).rows[0]?.v,
      );
      const historyFile = backupHistoryName(startWal, startMatch?.[1] ?? startLsn, walSegmentBytes);
      await archiveBackupWal(
        settings,
        masterData,
        { startWal, stopWal: row.wal, historyFile, walSegmentBytes },
        log,
      );
      const manifest: BackupManifest = {
        format: 1,
        label,
        pgVersion: (await client.query<{ v: string }>('show server_version')).rows[0]?.v ?? '',
        serverVersionNum: version,
        startLsn,
        stopLsn: row.lsn,
        startWal,
        stopWal: row.wal,
        timeline: Number(timeline ?? 1),
        walSegmentBytes,
        startTime,
        stopTime: new Date().toISOString(),
        tablespaces,
        files,
      };
      const result = { manifest, labelfile: row.labelfile, spcmapfile: row.spcmapfile };
      if (remote === undefined) writeSet(incoming, result);
      return result;
    } finally {
      if (!stopped) {
        // End the backup mode in this session; the copy is discarded by the caller.
        await client
          .query(
            version >= 150000
              ? 'select pg_backup_stop(false)'
              : 'select pg_stop_backup(false, false)',
          )
          .catch((error: Error) => log.warning(`could not end the backup mode: ${error.message}`));
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * The stop's `backup_label` and `tablespace_map`, then the manifest, into a copied set. The
 * manifest is written last: a set without it is not listed, whatever else is there.
 */
export function writeSet(incoming: string, result: BackupResult): void {
  writeDurable(path.join(incoming, 'backup_label'), result.labelfile);
  if (result.spcmapfile) writeDurable(path.join(incoming, 'tablespace_map'), result.spcmapfile);
  writeDurable(path.join(incoming, manifestName), `${JSON.stringify(result.manifest, null, 1)}\n`);
  fsyncDir(incoming);
}

/** Refuse a server without archiving (the stop would wait forever) or another data directory. */
async function checkServer(client: pg.Client, masterData: string): Promise<void> {
  const { rows } = await client.query<{ mode: string; dir: string; recovery: boolean }>(
    "select current_setting('archive_mode') as mode, current_setting('data_directory') as dir, pg_is_in_recovery() as recovery",
  );
  const row = rows[0] as { mode: string; dir: string; recovery: boolean };
  if (row.recovery) {
    throw new WalmgrError(
      'BACKUP_FAILED',
      'backup of a standby is not supported: run it on the master',
      {},
    );
  }
  if (row.mode === 'off') {
    throw new WalmgrError(
      'BACKUP_FAILED',
      'archive_mode is off on the master: run "walmgr <ini> setup" and restart the server first (the backup needs its WAL archived)',
      {},
    );
  }
  if (
    path.resolve(row.dir) !== path.resolve(masterData) &&
    statSync(row.dir, { throwIfNoEntry: false })?.ino !== statSync(masterData).ino
  ) {
    throw new WalmgrError(
      'BACKUP_FAILED',
      `master_db connects to a server whose data directory is ${row.dir}, not master_data ${masterData}`,
      { dataDirectory: row.dir, masterData },
    );
  }
}

async function tablespacesOf(
  client: pg.Client,
  masterData: string,
): Promise<{ oid: string; location: string }[]> {
  const { rows } = await client.query<{ oid: string }>(
    "select oid::text from pg_tablespace where spcname not in ('pg_default', 'pg_global')",
  );
  return rows.map((row) => {
    const link = path.join(masterData, 'pg_tblspc', row.oid);
    let location = link;
    try {
      location = readlinkSync(link);
    } catch (error) {
      // An in-place tablespace (a directory, PostgreSQL 15+) has no link to read.
      if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    }
    return { oid: row.oid, location };
  });
}

/** Upstream's `archive_command` for an expiring backup: `$BACKUPDIR` names it; failure aborts. */
function runArchiveCommand(settings: WalmgrSettings, dir: string, log: WalmgrLog): void {
  if (settings.archiveCommand === undefined) return;
  log.info(`archiving expiring backup ${dir}: ${settings.archiveCommand}`);
  const run = spawnSync('/bin/sh', ['-c', settings.archiveCommand], {
    stdio: 'inherit',
    env: { ...process.env, BACKUPDIR: dir },
  });
  if (run.status !== 0) {
    throw new WalmgrError(
      'COMMAND_FAILED',
      `archive_command for the expiring backup ${dir} failed (exit ${run.status ?? run.signal}); the backup is kept`,
      { command: settings.archiveCommand, dir },
    );
  }
}
