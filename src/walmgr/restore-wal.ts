/**
 * `xrestore NAME DST [RESTARTPOINT]`, the restore_command (spec §7.1, upstream's loop):
 * a file in `completed_wals` is copied to DST (uncompressed, its checksum checked). When it is
 * missing:
 * - with `primary_conninfo`, or in archive recovery (`recovery.signal`: a restore or PITR),
 *   fail at once: streaming takes over, or recovery ends at the end of the archive;
 * - a missing `.history` fails at once (the server probes for timelines that need not exist);
 * - in standby mode, wait for it as upstream's warm standby does: `PAUSE` holds replay, `STOP`
 *   (made by `boot`) hands over the partial segment if `sync` left one, else fails so the
 *   server can be promoted; the server going away ends the wait.
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
  primaryConninfo: string | undefined;
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
  const waitForIt =
    source.primaryConninfo === undefined &&
    existsSync(path.join(dataDir, 'standby.signal')) &&
    !historyPattern.test(name);
  if (!options.notReally) clearControl(completed, 'PROGRESS');
  const parent = process.ppid;
  let pausedSaid = false;
  for (;;) {
    if (waitForIt && hasControl(completed, 'PAUSE')) {
      if (!pausedSaid) log(`${completed}/PAUSE exists: waiting before restoring ${name}`);
      pausedSaid = true;
      sleep(options.pollSeconds ?? 1);
      continue;
    }
    const archived = findArchived(completed, name);
    if (archived !== null) {
      if (options.notReally) return { status: 'restored', from: archived.file, bytes: 0 };
      const bytes = copyOut(archived, dest);
      setControl(completed, 'PROGRESS');
      return { status: 'restored', from: archived.file, bytes };
    }
    if (!waitForIt) return { status: 'missing', reason: `${name} is not in ${completed}` };
    if (hasControl(completed, 'STOP')) {
      const partial = findArchived(source.partialWals, name);
      if (partial === null) {
        return { status: 'missing', reason: `STOP found and no partial ${name}: ending recovery` };
      }
      const bytes = options.notReally ? 0 : copyOut(partial, dest, false);
      return { status: 'restored', from: partial.file, bytes };
    }
    if (process.ppid !== parent || process.ppid === 1) {
      return { status: 'missing', reason: 'the server went away' };
    }
    sleep(options.pollSeconds ?? 1);
  }
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
