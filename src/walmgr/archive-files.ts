/**
 * The archive directory's layout: a WAL file `NAME` is stored as `NAME` (or `NAME.gz`) beside
 * `NAME.sha256`, which records the SHA-256 of its uncompressed bytes in `sha256sum` format.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { sha256File } from './durable.js';

export interface ArchivedFile {
  name: string;
  /** Where the bytes are (`NAME` or `NAME.gz`). */
  file: string;
  compressed: boolean;
  checksumFile: string;
}

export function checksumFileOf(dir: string, name: string): string {
  return path.join(dir, `${name}.sha256`);
}

/** The archived copy of `name` in `dir`, or null when there is none. */
export function findArchived(dir: string, name: string): ArchivedFile | null {
  const plain = path.join(dir, name);
  const checksumFile = checksumFileOf(dir, name);
  if (existsSync(plain)) return { name, file: plain, compressed: false, checksumFile };
  if (existsSync(`${plain}.gz`)) {
    return { name, file: `${plain}.gz`, compressed: true, checksumFile };
  }
  return null;
}

/** The uncompressed bytes of an archived file. */
export function readArchived(archived: ArchivedFile): Buffer {
  const data = readFileSync(archived.file);
  return archived.compressed ? gunzipSync(data) : data;
}

/** SHA-256 of an archived file's uncompressed bytes (`data`: those bytes, already read). */
export function contentChecksum(archived: ArchivedFile, data?: Buffer): string {
  if (data !== undefined) return createHash('sha256').update(data).digest('hex');
  if (!archived.compressed) return sha256File(archived.file);
  return createHash('sha256').update(readArchived(archived)).digest('hex');
}

/** The checksum recorded when the file was archived, or null when none was. */
export function recordedChecksum(archived: ArchivedFile): string | null {
  if (!existsSync(archived.checksumFile)) return null;
  const match = /^([0-9a-f]{64})\s/.exec(readFileSync(archived.checksumFile, 'utf8'));
  return match ? (match[1] as string) : null;
}

export function checksumLine(sum: string, name: string): string {
  return `${sum}  ${name}\n`;
}
