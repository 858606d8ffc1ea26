/** The postmaster of a data directory, as `postmaster.pid` tells. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The live postmaster's pid, or null (no pid file, or its process is gone). */
export function postmasterPid(dataDir: string): number | null {
  let text: string;
  try {
    text = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

export function isServerRunning(dataDir: string): boolean {
  return postmasterPid(dataDir) !== null;
}
