/**
 * Files that must be on disk before we say so: written under a temporary name, fsynced,
 * renamed, and the directory fsynced (a rename is only durable once its directory is).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import type { Compression } from './settings.js';

const chunkSize = 1 << 20;

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A temporary name next to `final`, hidden from listings (leading dot) and unique per process. */
export function temporaryName(final: string): string {
  return path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.tmp`);
}

/** SHA-256 (hex) of a whole file, read in 1 MB chunks. */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(chunkSize);
    for (;;) {
      const read = readSync(fd, buffer, 0, chunkSize, null);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Copy `source` next to `final` under a temporary name, compressed as asked, and fsync it.
 * Returns that name (the caller renames it into place) and the SHA-256 of the source's bytes.
 * Nothing is left behind when it fails.
 */
export function copyToTemporary(
  source: string,
  final: string,
  compression: Compression,
): { temporary: string; sha256: string } {
  const input = openSync(source, 'r');
  try {
    return toTemporary(final, (output, hash) => {
      const buffer = Buffer.allocUnsafe(chunkSize);
      const chunks: Buffer[] = [];
      for (;;) {
        const read = readSync(input, buffer, 0, chunkSize, null);
        if (read === 0) break;
        const chunk = buffer.subarray(0, read);
        hash.update(chunk);
        if (compression === 'gzip') chunks.push(Buffer.from(chunk));
        else writeAll(output, chunk);
      }
      if (compression === 'gzip') writeAll(output, gzip(Buffer.concat(chunks)));
    });
  } finally {
    closeSync(input);
  }
}

/** {@link copyToTemporary} of bytes in memory. */
export function bytesToTemporary(
  data: Buffer,
  final: string,
  compression: Compression,
): { temporary: string; sha256: string } {
  return toTemporary(final, (output, hash) => {
    hash.update(data);
    writeAll(output, compression === 'gzip' ? gzip(data) : data);
  });
}

/** A temporary file next to `final` that `fill` writes (and hashes), fsynced; removed on failure. */
function toTemporary(
  final: string,
  fill: (output: number, hash: Hash) => void,
): { temporary: string; sha256: string } {
  const temporary = temporaryName(final);
  const hash = createHash('sha256');
  try {
    const output = openSync(temporary, 'w', 0o600);
    try {
      fill(output, hash);
      fsyncSync(output);
    } finally {
      closeSync(output);
    }
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  return { temporary, sha256: hash.digest('hex') };
}

function gzip(data: Buffer): Buffer {
  return gzipSync(data, { level: zlibConstants.Z_BEST_SPEED });
}

/** Write `text` to `final` through a temporary name and fsync (the caller fsyncs the directory). */
export function writeDurable(final: string, text: string | Buffer): void {
  const temporary = temporaryName(final);
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeAll(fd, typeof text === 'string' ? Buffer.from(text) : text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, final);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function writeAll(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset);
}
