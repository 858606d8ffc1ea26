/**
 * `xrestore NAME DST [RESTARTPOINT]`, the restore_command (spec §7.1): a file in
 * `completed_wals` is copied to DST, uncompressed, its checksum checked. A missing file is
 * reported at once, never waited for: PostgreSQL reads WAL ahead (recovery_prefetch, 15+), so a
 * restore_command that blocks for the next segment also holds back the replay of records already
 * read (why pg_standby went away in 14); in standby mode the server itself asks again every
 * `wal_retrieve_retry_interval`. Upstream's control files keep their meaning:
 * - `PAUSE`: a standby gets no new segment (the server retries); archive recovery, which would
 *   end on a missing file, waits while it exists;
 * - `STOP` (made by `boot`): the partial segment from `partial_wals` is handed over if `sync`
 *   left one.
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type ArchivedFile,
  contentChecksum,
  findArchived,
  readArchived,
  recordedChecksum,
} from './archive-files.js';
import { clearControl, hasControl, setControl } from './control-files.js';
import { WalmgrError } from './errors.js';
import { historyPattern, isWalFileName } from './wal-names.js';

export interface RestoreSource {
  completedWals: string;
  partialWals: string;
}

export interface RestoreWalOptions {
  notReally?: boolean;
  /** The server's data directory (restore_command runs there); default the current directory. */
  dataDir?: string;
  /** Seconds between looks while waiting; default 1. */
  pollSeconds?: number;
  log?: (message: string) => void;
}

export type RestoreWalResult =
  | { status: 'restored'; from: string; bytes: number }
  | { status: 'missing'; reason: string };

export function restoreWal(
  source: RestoreSource,
  name: string,
  destination: string,
  options: RestoreWalOptions = {},
): RestoreWalResult {
  if (!isWalFileName(name) || path.basename(name) !== name) {
    throw new WalmgrError('WAL_NOT_FOUND', `xrestore: "${name}" is not a WAL file name`, { name });
  }
  const dataDir = options.dataDir ?? process.cwd();
  const dest = path.resolve(dataDir, destination);
  const completed = source.completedWals;
  const log = options.log ?? (() => {});
  const standby = existsSync(path.join(dataDir, 'standby.signal'));
  if (!options.notReally) clearControl(completed, 'PROGRESS');
  if (hasControl(completed, 'PAUSE') && !historyPattern.test(name)) {
    if (standby)
      return { status: 'missing', reason: `${completed}/PAUSE exists: ${name} held back` };
    log(`${completed}/PAUSE exists: waiting before restoring ${name}`);
    const parent = process.ppid;
    while (hasControl(completed, 'PAUSE')) {
      if (process.ppid !== parent || process.ppid === 1) {
        return { status: 'missing', reason: 'the server went away' };
      }
      sleep(options.pollSeconds ?? 1);
    }
  }
  const archived = findArchived(completed, name);
  if (archived !== null) {
    if (options.notReally) return { status: 'restored', from: archived.file, bytes: 0 };
    const bytes = copyOut(archived, dest);
    setControl(completed, 'PROGRESS');
    return { status: 'restored', from: archived.file, bytes };
  }
  if (hasControl(completed, 'STOP')) {
    const partial = findArchived(source.partialWals, name);
    if (partial !== null) {
      const bytes = options.notReally ? 0 : copyOut(partial, dest, false);
      return { status: 'restored', from: partial.file, bytes };
    }
  }
  return { status: 'missing', reason: `${name} is not in ${completed}` };
}

/** Copy the uncompressed bytes to `dest` (through a temporary name), checking the checksum. */
function copyOut(archived: ArchivedFile, dest: string, checked = true): number {
  const data = readArchived(archived);
  if (checked) {
    const recorded = recordedChecksum(archived);
    const actual = contentChecksum(archived, data);
    if (recorded !== null && recorded !== actual) {
      throw new WalmgrError(
        'CHECKSUM_MISMATCH',
        `xrestore: ${archived.file} is damaged: its sha256 is ${actual.slice(0, 16)}..., the archive recorded ${recorded.slice(0, 16)}... (${archived.checksumFile})`,
        { file: archived.file, recorded, actual },
      );
    }
  }
  const temporary = `${dest}.walmgr.tmp`;
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, dest);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return data.length;
}

function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}
