/**
 * `xarchive SRC NAME`, the archive_command: copy one WAL file into `completed_wals` so that
 * success is reported only once the copy and its checksum are durable. The same file
 * arriving twice with the same bytes is a success (the server retries after a crash between
 * our rename and its own bookkeeping); different bytes are an error naming both.
 *
 * This module is on the per-segment start-up path: it imports Node built-ins and the INI
 * reader only (see xarchive-entry.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  type ArchivedFile,
  checksumFileOf,
  checksumLine,
  contentChecksum,
  findArchived,
  recordedChecksum,
} from './archive-files.js';
import {
  bytesToTemporary,
  copyToTemporary,
  fsyncDir,
  sha256File,
  writeDurable,
} from './durable.js';
import { WalmgrError } from './errors.js';
import { chownFile, ownerFrom } from './ownership.js';
import type { Compression } from './settings.js';
import { isWalFileName } from './wal-names.js';

export interface ArchiveTarget {
  completedWals: string;
  compression: Compression;
  /** Log what would be done, change nothing. */
  notReally?: boolean;
}

export interface ArchiveResult {
  name: string;
  status: 'archived' | 'already-archived' | 'not-really';
  bytes: number;
  sha256: string;
}

/**
 * Archive `source` (relative to the current directory: the server's data directory) as `name`;
 * with `data`, those bytes (a remote master's segment read from stdin, `source` names it).
 * Run as root, what is stored goes to the archive directory's owner.
 */
export function archiveWal(
  target: ArchiveTarget,
  source: string,
  name: string,
  data?: Buffer,
): ArchiveResult {
  if (!isWalFileName(name) || path.basename(name) !== name) {
    throw new WalmgrError(
      'ARCHIVE_FAILED',
      `xarchive: "${name}" is not a WAL file name (expected e.g. 000000010000000000000001, 00000002.history)`,
      { name },
    );
  }
  const sourcePath = data === undefined ? path.resolve(source) : source;
  if (data === undefined && !existsSync(sourcePath)) {
    throw new WalmgrError('ARCHIVE_FAILED', `xarchive: source file ${sourcePath} does not exist`, {
      source: sourcePath,
      name,
    });
  }
  const dir = target.completedWals;
  const bytes = data?.length ?? statSync(sourcePath).size;
  const existing = findArchived(dir, name);
  if (existing !== null) return confirmSame(existing, sourcePath, name, bytes, data);
  if (target.notReally) return { name, status: 'not-really', bytes, sha256: '' };
  mkdirSync(dir, { recursive: true });
  const finalName = path.join(dir, target.compression === 'gzip' ? `${name}.gz` : name);
  // The checksum is made durable before the file appears under its name: a crash in
  // between leaves a checksum without a file, which the server's retry rewrites; never a
  // file without its checksum.
  try {
    const { temporary, sha256 } =
      data === undefined
        ? copyToTemporary(sourcePath, finalName, target.compression)
        : bytesToTemporary(data, finalName, target.compression);
    try {
      writeDurable(checksumFileOf(dir, name), checksumLine(sha256, name));
      renameSync(temporary, finalName);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
    fsyncDir(dir);
    const owner = ownerFrom(dir);
    chownFile(finalName, owner);
    chownFile(checksumFileOf(dir, name), owner);
    return { name, status: 'archived', bytes, sha256 };
  } catch (error) {
    throw storeFailed(error, name, dir);
  }
}

/** A file system error while storing, as one line naming the segment and the archive. */
function storeFailed(error: unknown, name: string, dir: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return error;
  const why =
    code === 'ENOSPC'
      ? 'ENOSPC, the archive file system is full'
      : code === 'EACCES' || code === 'EPERM'
        ? `${code}, the archive is not writable by this user`
        : code;
  return new WalmgrError(
    'ARCHIVE_FAILED',
    `xarchive: could not store ${name} in ${dir} (${why}): ${(error as Error).message}; nothing was stored under its name, the server will retry`,
    { name, dir, errno: code },
    { cause: error },
  );
}

function confirmSame(
  existing: ArchivedFile,
  sourcePath: string,
  name: string,
  bytes: number,
  data: Buffer | undefined,
): ArchiveResult {
  const incoming =
    data === undefined ? sha256File(sourcePath) : createHash('sha256').update(data).digest('hex');
  const stored = recordedChecksum(existing) ?? contentChecksum(existing);
  if (stored !== incoming) {
    throw new WalmgrError(
      'ARCHIVE_CONFLICT',
      `xarchive: ${name} is already archived as ${existing.file} with different content (sha256 ${stored.slice(0, 16)}...) than ${sourcePath} (sha256 ${incoming.slice(0, 16)}...); refusing to overwrite it`,
      {
        name,
        archived: existing.file,
        source: sourcePath,
        archivedSha256: stored,
        sourceSha256: incoming,
      },
    );
  }
  if (recordedChecksum(existing) === null) {
    writeDurable(existing.checksumFile, checksumLine(incoming, name));
    fsyncDir(path.dirname(existing.checksumFile));
  }
  return { name, status: 'already-archived', bytes, sha256: incoming };
}
