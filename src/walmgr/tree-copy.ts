/**
 * Copy a directory tree file by file, hashing each file as it is read (SHA-256), with a
 * progress callback. Used by the base backup (live data directory: files may grow, shrink or
 * vanish while we read, which WAL replay repairs) and by restore (a finished backup set).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

export interface CopiedFile {
  /** Path relative to the tree's root, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
}

export interface TreeEntry {
  /** Relative path. */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  size: number;
  /** Where to read it, relative to the copy's source root, when not at `path`. */
  source?: string;
}

export interface CopyProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
}

const chunkSize = 1 << 20;

/**
 * Every entry under `root` that `keep(relativePath, kind)` accepts, directories before their
 * contents. A directory refused by `keep` is not entered; `empty` keeps the directory but
 * none of what is in it.
 */
export function listTree(
  root: string,
  keep: (relative: string, kind: TreeEntry['kind']) => 'yes' | 'no' | 'empty',
): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (relative: string) => {
    let names: string[];
    try {
      names = readdirSync(path.join(root, relative));
    } catch (error) {
      // A directory dropped while we list (a dropped database): nothing to copy there.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names.sort()) {
      const child = relative === '' ? name : `${relative}/${name}`;
      let stat: ReturnType<typeof lstatSync>;
      try {
        stat = lstatSync(path.join(root, child));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const kind = stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : 'file';
      if (kind === 'file' && !stat.isFile()) continue; // sockets, fifos
      const verdict = keep(child, kind);
      if (verdict === 'no') continue;
      out.push({ path: child, kind, size: kind === 'file' ? stat.size : 0 });
      if (kind === 'dir' && verdict === 'yes') walk(child);
    }
  };
  walk('');
  return out;
}

/**
 * Copy `entries` from `from` to `to`. A file that vanished meanwhile is skipped; symlinks are
 * recreated as links; `onProgress` is called after every chunk. Nothing is flushed here: the
 * caller makes the whole tree durable once with {@link syncTree}.
 */
export function copyEntries(
  from: string,
  to: string,
  entries: TreeEntry[],
  onProgress: (progress: CopyProgress) => void = () => {},
): CopiedFile[] {
  const copied: CopiedFile[] = [];
  const total = entries.reduce((sum, entry) => sum + entry.size, 0);
  const progress: CopyProgress = { bytesDone: 0, bytesTotal: total, filesDone: 0 };
  const buffer = Buffer.allocUnsafe(chunkSize);
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const entry of entries) {
    const target = path.join(to, entry.path);
    if (entry.kind === 'dir') {
      mkdirSync(target, { recursive: true, mode: 0o700 });
      continue;
    }
    if (entry.kind === 'symlink') {
      symlinkSync(readlinkSync(path.join(from, entry.source ?? entry.path)), target);
      continue;
    }
    let input: number;
    try {
      input = openSync(path.join(from, entry.source ?? entry.path), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const hash = createHash('sha256');
    let size = 0;
    try {
      const output = openSync(target, 'w', 0o600);
      try {
        for (;;) {
          const read = readSync(input, buffer, 0, chunkSize, null);
          if (read === 0) break;
          const chunk = buffer.subarray(0, read);
          hash.update(chunk);
          let written = 0;
          while (written < read) written += writeSync(output, chunk, written);
          size += read;
          progress.bytesDone += read;
          onProgress(progress);
        }
      } finally {
        closeSync(output);
      }
    } finally {
      closeSync(input);
    }
    progress.filesDone++;
    copied.push({ path: entry.path, size, sha256: hash.digest('hex') });
  }
  return copied;
}

/**
 * Make a copied tree durable: one `syncfs` of its file system (`sync -f`, coreutils), which
 * costs one call instead of one fsync per file; where that is missing, every file and
 * directory is fsynced.
 */
export function syncTree(root: string, entries: TreeEntry[]): void {
  const run = spawnSync('sync', ['-f', root], { stdio: 'ignore' });
  if (run.status === 0) return;
  for (const entry of entries) {
    if (entry.kind === 'symlink') continue;
    let fd: number;
    try {
      fd = openSync(path.join(root, entry.path), 'r');
    } catch (error) {
      // A file that vanished from the source was never copied.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  const fd = openSync(root, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Calls `print` at most every `seconds` with a line: done/total MB, rate, ETA. */
export function progressPrinter(
  what: string,
  print: (line: string) => void,
  seconds = 2,
): (progress: CopyProgress) => void {
  const started = Date.now();
  let last = started;
  return (progress) => {
    const now = Date.now();
    if (now - last < seconds * 1000) return;
    last = now;
    print(progressLine(what, progress, (now - started) / 1000));
  };
}

export function progressLine(what: string, progress: CopyProgress, elapsed: number): string {
  const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
  const rate = elapsed > 0 ? progress.bytesDone / elapsed : 0;
  const left = Math.max(progress.bytesTotal - progress.bytesDone, 0);
  const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : '?';
  return `${what}: ${mb(progress.bytesDone)} of ${mb(progress.bytesTotal)} MB, ${mb(rate)} MB/s, ETA ${eta}`;
}
