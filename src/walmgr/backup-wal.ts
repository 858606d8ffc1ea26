/**
 * The WAL a base backup needs, put into the archive by the backup itself. `pg_backup_stop`
 * asked to wait for the archive sleeps a whole second between its looks at the archiver (and
 * the archiver may be a Node start per segment away): on a small cluster that wait was half
 * of the backup's time. So the backup stops without waiting and archives the segments from its
 * first WAL to its stop WAL and the backup history file itself, with `xarchive`'s code (copy
 * and checksum fsynced, directory fsynced). The server's archiver hands the same files to its
 * archive_command later, which finds the same bytes and confirms (xarchive is idempotent).
 * A file the server's archiver already took (`.done`, or archived and recycled) is left to
 * it: that archive_command succeeded.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { archiveWal } from './archive.js';
import { findArchived } from './archive-files.js';
import type { WalmgrLog } from './log.js';
import { runOnSlave } from './remote.js';
import type { RemoteSlave, WalmgrSettings } from './settings.js';

export interface BackupWal {
  /** First WAL file the backup needs (its `START WAL LOCATION`). */
  startWal: string;
  /** The file holding the stop position. */
  stopWal: string;
  /** `START..backup` history file name, written by the stop into `pg_wal`. */
  historyFile: string | null;
  walSegmentBytes: number;
}

/** Segment names from `first` to `last` on `first`'s timeline. */
export function segmentRange(first: string, last: string, segmentBytes: number): string[] {
  const perId = 0x100000000 / segmentBytes;
  const hex = (value: number) => value.toString(16).toUpperCase().padStart(8, '0');
  const timeline = first.slice(0, 8);
  let log = Number.parseInt(first.slice(8, 16), 16);
  let seg = Number.parseInt(first.slice(16, 24), 16);
  const names: string[] = [];
  for (;;) {
    const name = `${timeline}${hex(log)}${hex(seg)}`;
    names.push(name);
    if (name >= last.slice(0, 24) || names.length > 1_000_000) return names;
    seg++;
    if (seg >= perId) {
      seg = 0;
      log++;
    }
  }
}

/** `START.OFFSET.backup`: the backup history file the stop writes for a start at `startLsn`. */
export function backupHistoryName(
  startWal: string,
  startLsn: string,
  segmentBytes: number,
): string {
  const low = BigInt(`0x${startLsn.split('/')[1] ?? '0'}`);
  const offset = Number(low % BigInt(segmentBytes));
  return `${startWal}.${offset.toString(16).toUpperCase().padStart(8, '0')}.backup`;
}

/**
 * Archive every file of `wal` not yet in `completed_wals`, once the server has finished it
 * (`.ready`); returns when each one is archived here or by the server's archiver. A remote
 * archive gets every `.ready` file through the slave's `xarchive -`, which confirms one it has.
 */
export async function archiveBackupWal(
  settings: WalmgrSettings,
  masterData: string,
  wal: BackupWal,
  log: WalmgrLog,
): Promise<void> {
  const walDir = path.join(masterData, 'pg_wal');
  const status = path.join(walDir, 'archive_status');
  const names = segmentRange(wal.startWal, wal.stopWal, wal.walSegmentBytes);
  if (wal.historyFile !== null) names.push(wal.historyFile);
  const target = { completedWals: settings.completedWals, compression: settings.compression };
  const remote = settings.remote;
  let pending = names;
  let nextWarning = Date.now() + 60_000;
  while (pending.length > 0) {
    const left: string[] = [];
    for (const name of pending) {
      if (remote === undefined && findArchived(settings.completedWals, name) !== null) continue;
      if (existsSync(path.join(status, `${name}.done`))) continue;
      // Gone from pg_wal without a status: archived and recycled (with archive_mode on the
      // server removes no segment before its archive_command succeeded).
      if (!existsSync(path.join(walDir, name))) continue;
      if (!existsSync(path.join(status, `${name}.ready`))) {
        left.push(name);
        continue;
      }
      let result: ReturnType<typeof archiveWal>['status'];
      try {
        result =
          remote === undefined
            ? archiveWal(target, path.join(walDir, name), name).status
            : sendToSlave(remote, path.join(walDir, name), name);
      } catch (error) {
        // The archiver got there between our looks and the server removed its copy.
        if (existsSync(path.join(status, `${name}.done`))) continue;
        throw error;
      }
      if (result === 'archived') log.debug(`backup: archived ${name}`);
    }
    pending = left;
    if (pending.length === 0) return;
    if (Date.now() > nextWarning) {
      log.warning(
        `backup: still waiting for the server to finish WAL file ${pending[0]} (archive_status/${pending[0]}.ready)`,
      );
      nextWarning = Date.now() + 60_000;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The slave's xarchive stores `file` as `name` (or finds it there with the same bytes). */
function sendToSlave(remote: RemoteSlave, file: string, name: string): 'archived' {
  const input = openSync(file, 'r');
  try {
    runOnSlave(remote, ['xarchive', '-', name], input);
  } finally {
    closeSync(input);
  }
  return 'archived';
}
