/**
 * Copy a directory tree file by file, hashing each file as it is read (SHA-256), with a
 * progress callback. Used by the base backup (live data directory: files may grow, shrink or
 * vanish while we read, which WAL replay repairs) and by restore (a finished backup set).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
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

/** Files copied at once: reads, writes and hashing overlap (libuv's pool does the I/O). */
const parallelFiles = 3;

/**
 * Copy `entries` from `from` to `to`. A file that vanished meanwhile is skipped; symlinks are
 * recreated as links; `onProgress` is called after every chunk. Directories and links are made
 * first, then the files are copied a few at a time, each read once: its SHA-256 is taken from
 * the chunk just read while the previous chunk is being written. Nothing is flushed here: the
 * caller makes the whole tree durable once with {@link syncTree}. The result is in entry order.
 */
export async function copyEntries(
  from: string,
  to: string,
  entries: TreeEntry[],
  onProgress: (progress: CopyProgress) => void = () => {},
): Promise<CopiedFile[]> {
  const total = entries.reduce((sum, entry) => sum + entry.size, 0);
  const progress: CopyProgress = { bytesDone: 0, bytesTotal: total, filesDone: 0 };
  mkdirSync(to, { recursive: true, mode: 0o700 });
  const files: TreeEntry[] = [];
  for (const entry of entries) {
    const target = path.join(to, entry.path);
    if (entry.kind === 'dir') mkdirSync(target, { recursive: true, mode: 0o700 });
    else if (entry.kind === 'symlink') {
      symlinkSync(readlinkSync(path.join(from, entry.source ?? entry.path)), target);
    } else files.push(entry);
  }
  const copied: (CopiedFile | null)[] = new Array(files.length).fill(null);
  let next = 0;
  const worker = async () => {
    const buffers = [0, 1, 2].map(() => Buffer.allocUnsafe(chunkSize));
    while (next < files.length) {
      const index = next++;
      const entry = files[index] as TreeEntry;
      const result = await copyOne(
        path.join(from, entry.source ?? entry.path),
        path.join(to, entry.path),
        buffers,
        (bytes) => {
          progress.bytesDone += bytes;
          onProgress(progress);
        },
      );
      if (result === null) continue;
      progress.filesDone++;
      copied[index] = { path: entry.path, ...result };
    }
  };
  await Promise.all(Array.from({ length: parallelFiles }, worker));
  return copied.filter((file): file is CopiedFile => file !== null);
}

/**
 * One file through three buffers: while chunk i is hashed, chunk i+1 is being read and chunk
 * i-1 written (libuv's pool does both), so the hash (on this thread) overlaps all the I/O.
 * Null when the source vanished before we opened it.
 */
async function copyOne(
  source: string,
  target: string,
  buffers: Buffer[],
  onChunk: (bytes: number) => void,
): Promise<{ size: number; sha256: string } | null> {
  let input: FileHandle;
  try {
    input = await open(source, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const hash = createHash('sha256');
  let size = 0;
  try {
    const output = await open(target, 'w', 0o600);
    try {
      let writing: Promise<unknown> = Promise.resolve();
      const readInto = (buffer: Buffer) => input.read(buffer, 0, chunkSize, null);
      let reading = readInto(buffers[0] as Buffer);
      for (let turn = 0; ; turn = (turn + 1) % buffers.length) {
        const { bytesRead, buffer } = await reading;
        if (bytesRead === 0) break;
        // The next buffer held chunk i-2, whose write ended before chunk i-1's began.
        reading = readInto(buffers[(turn + 1) % buffers.length] as Buffer);
        const chunk = buffer.subarray(0, bytesRead);
        hash.update(chunk);
        await writing;
        writing = writeAll(output, chunk);
        size += bytesRead;
        onChunk(bytesRead);
      }
      await writing;
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
  return { size, sha256: hash.digest('hex') };
}

async function writeAll(output: FileHandle, chunk: Buffer): Promise<void> {
  let written = 0;
  while (written < chunk.length) {
    written += (await output.write(chunk, written, chunk.length - written, null)).bytesWritten;
  }
}

/**
 * Make a copied tree durable: one `syncfs` of its file system (`sync -f`, coreutils), which
 * costs one call instead of one fsync per file; where that is missing, every file and
 * directory is fsynced. Asynchronous, so that a backup can end its backup mode meanwhile.
 */
export async function syncTree(root: string, entries: TreeEntry[]): Promise<void> {
  const status = await new Promise<number | null>((resolve) => {
    const child = spawn('sync', ['-f', root], { stdio: 'ignore' });
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
  if (status === 0) return;
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
