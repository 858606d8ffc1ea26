/**
 * Backup sets on disk: `full_backup` (the newest), `full_backup.0`, `.1`, ... (older ones),
 * each with `backup_label` and walmgr's manifest; `full_backup.incoming` while one is taken
 * (never listed: a backup killed half-way is not a backup).
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CopiedFile } from './tree-copy.js';

export const manifestName = 'walmgr_manifest.json';

export interface BackupManifest {
  format: 1;
  label: string;
  pgVersion: string;
  /** server_version_num of the server the backup is from. */
  serverVersionNum: number;
  startLsn: string;
  stopLsn: string;
  /** The first WAL file the backup needs (from backup_label). */
  startWal: string;
  /** The WAL file holding the stop position: recovery needs everything up to it. */
  stopWal: string;
  timeline: number;
  /** wal_segment_size of the server, in bytes (sets before it was recorded: 16 MB). */
  walSegmentBytes?: number;
  startTime: string;
  stopTime: string;
  /** Tablespaces: oid and where they were on the master. */
  tablespaces: { oid: string; location: string }[];
  files: CopiedFile[];
}

export interface BackupSet {
  /** Directory name (`data.master`, `data.master.0`, ...). */
  name: string;
  dir: string;
  manifest: BackupManifest;
}

export function incomingDir(fullBackup: string): string {
  return `${fullBackup}.incoming`;
}

export function readManifest(dir: string): BackupManifest | null {
  const file = path.join(dir, manifestName);
  if (!existsSync(file) || !existsSync(path.join(dir, 'backup_label'))) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as BackupManifest;
}

/** Complete sets, newest first. */
export function listSets(fullBackup: string): BackupSet[] {
  const parent = path.dirname(fullBackup);
  const base = path.basename(fullBackup);
  if (!existsSync(parent)) return [];
  const names = readdirSync(parent).filter(
    (name) => name === base || new RegExp(`^${escapeRegex(base)}\\.\\d+$`).test(name),
  );
  const sets: BackupSet[] = [];
  for (const name of names) {
    const dir = path.join(parent, name);
    const manifest = readManifest(dir);
    if (manifest !== null) sets.push({ name, dir, manifest });
  }
  return sets.sort((a, b) => order(a.name, base) - order(b.name, base));
}

function order(name: string, base: string): number {
  return name === base ? -1 : Number(name.slice(base.length + 1));
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Make room for a new newest set (upstream's `xrotate`): sets beyond `keep` old ones are
 * handed to `expire` (which may archive them) and deleted, then `full_backup` becomes `.0`,
 * `.0` becomes `.1`, and so on. Returns the deleted directories.
 */
export function rotateSets(
  fullBackup: string,
  keep: number,
  expire: (dir: string) => void,
  notReally = false,
): string[] {
  const sets = listSets(fullBackup);
  // After rotation the new set is the newest; `keep` older ones stay.
  const doomed = sets.slice(keep);
  const deleted: string[] = [];
  for (const set of doomed) {
    expire(set.dir);
    if (!notReally) rmSync(set.dir, { recursive: true, force: true });
    deleted.push(set.dir);
  }
  const survivors = sets.slice(0, keep).reverse();
  for (const set of survivors) {
    const base = path.basename(fullBackup);
    const next = set.name === base ? 0 : Number(set.name.slice(base.length + 1)) + 1;
    const target = `${fullBackup}.${next}`;
    if (notReally || set.dir === target) continue;
    // Older sets moved on already: whatever is still there is no set (an unfinished copy).
    rmSync(target, { recursive: true, force: true });
    renameSync(set.dir, target);
  }
  return deleted;
}
