/**
 * Replace a small state file so that a reader (or the next run after a kill or a power loss)
 * finds the old content or the new one, never a part: written to a temporary file, flushed,
 * renamed over the file, and the directory entry flushed. Errors are the file system's.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function writeAtomic(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { flush: true });
  renameSync(temp, file);
  syncDirectory(path.dirname(file));
}

/** The rename is durable only once the directory entry is on disk too. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
