/**
 * Upstream's control files in `completed_wals`: `STOP` (end recovery), `PAUSE` (restore
 * waits), `PROGRESS` (a segment was restored), `BACKUPLOCK` (a backup runs; holds its pid).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WalmgrError } from './errors.js';

export type ControlFile = 'STOP' | 'PAUSE' | 'PROGRESS' | 'BACKUPLOCK' | 'PG_RECEIVEXLOG';

export function controlPath(completedWals: string, file: ControlFile): string {
  return path.join(completedWals, file);
}

export function hasControl(completedWals: string, file: ControlFile): boolean {
  return existsSync(controlPath(completedWals, file));
}

export function setControl(completedWals: string, file: ControlFile, text = ''): void {
  writeFileSync(controlPath(completedWals, file), text);
}

export function clearControl(completedWals: string, file: ControlFile): void {
  rmSync(controlPath(completedWals, file), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Take `BACKUPLOCK` for `pid` (upstream's `xlock`). A lock whose pid is dead is stale and
 * taken over; a live holder is an error naming it. The lock is made with an exclusive create,
 * so two backups starting together cannot both win.
 */
export function takeBackupLock(
  completedWals: string,
  pid: number,
  onStale: (holder: number) => void = () => {},
): void {
  const file = controlPath(completedWals, 'BACKUPLOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(readLock(file), 10);
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new WalmgrError(
        'BACKUP_LOCKED',
        `another backup is running (pid ${holder}, lock ${file}); wait for it to finish`,
        { lock: file, pid: holder },
      );
    }
    onStale(holder);
    rmSync(file, { force: true });
  }
  throw new WalmgrError('BACKUP_LOCKED', `could not take the backup lock ${file}`, { lock: file });
}

/** Remove `BACKUPLOCK` if `pid` holds it (upstream's `xrelease`; no pid: whoever holds it). */
export function releaseBackupLock(completedWals: string, pid?: number): void {
  const file = controlPath(completedWals, 'BACKUPLOCK');
  if (!existsSync(file)) return;
  if (pid !== undefined && Number.parseInt(readLock(file), 10) !== pid) return;
  rmSync(file, { force: true });
}

function readLock(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    // The holder released it between our create and this read: no holder.
    return '';
  }
}
