/**
 * Run as root, walmgr leaves what it creates owned by the data directory's owner
 * (decisions.md): the server, running as that user, must read and write the archive, and a
 * restored data directory must belong to the user who starts the server on it.
 */
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Owner {
  uid: number;
  gid: number;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** The owner of the nearest existing path among `candidates`, or null when not root. */
export function ownerFrom(...candidates: (string | undefined)[]): Owner | null {
  if (!isRoot()) return null;
  for (const candidate of candidates) {
    if (candidate !== undefined && existsSync(candidate)) {
      const stat = statSync(candidate);
      return { uid: stat.uid, gid: stat.gid };
    }
  }
  return null;
}

/** `mkdir -p`, handing every directory it made to `owner`. */
export function makeDirs(dir: string, owner: Owner | null, mode = 0o700): void {
  const missing: string[] = [];
  for (let at = path.resolve(dir); !existsSync(at); at = path.dirname(at)) missing.unshift(at);
  mkdirSync(dir, { recursive: true, mode });
  if (owner !== null) for (const made of missing) chownSync(made, owner.uid, owner.gid);
}

/** Give `target` and everything below it (symlinks themselves, not their targets) to `owner`. */
export function chownTree(target: string, owner: Owner | null): void {
  if (owner === null || !existsSync(target)) return;
  const walk = (at: string) => {
    const stat = lstatSync(at);
    if (stat.uid !== owner.uid || stat.gid !== owner.gid) {
      if (stat.isSymbolicLink()) return;
      chownSync(at, owner.uid, owner.gid);
    }
    if (stat.isDirectory()) for (const entry of readdirSync(at)) walk(path.join(at, entry));
  };
  walk(target);
}

/** Give one file to `owner`. */
export function chownFile(file: string, owner: Owner | null): void {
  if (owner !== null) chownSync(file, owner.uid, owner.gid);
}
