/**
 * PostgreSQL programs of a given major version: the server binaries a drill starts, and the
 * client programs (`pg_basebackup`) walmgr uses where they exist. Looked for in `slave_bin`,
 * `master_bin`, `SKYTOOLS_PG_BIN`, Debian's `/usr/lib/postgresql/N/bin`, then (server binaries
 * only) the embedded PostgreSQL 18, which has no client programs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type PgBinaries, resolvePgBinaries } from '../pg/binaries.js';
import { WalmgrError } from './errors.js';
import type { WalmgrSettings } from './settings.js';

function candidateDirs(settings: WalmgrSettings, major: number): string[] {
  return [
    settings.slaveBin,
    settings.masterBin,
    process.env.SKYTOOLS_PG_BIN || undefined,
    `/usr/lib/postgresql/${major}/bin`,
  ].filter((dir): dir is string => dir !== undefined);
}

/** Server binaries of `major`, or one clear error naming what was tried. */
export async function binariesForMajor(
  settings: WalmgrSettings,
  major: number,
): Promise<PgBinaries> {
  const candidates = candidateDirs(settings, major).filter((dir) =>
    existsSync(path.join(dir, 'postgres')),
  );
  const tried: string[] = [];
  for (const dir of candidates) {
    const bins = await resolvePgBinaries(dir);
    if (bins.major === major) return bins;
    tried.push(`${dir} (PostgreSQL ${bins.major})`);
  }
  const saved = process.env.SKYTOOLS_PG_BIN;
  delete process.env.SKYTOOLS_PG_BIN;
  try {
    const embedded = await resolvePgBinaries();
    if (embedded.major === major) return embedded;
    tried.push(`embedded (PostgreSQL ${embedded.major})`);
  } finally {
    if (saved !== undefined) process.env.SKYTOOLS_PG_BIN = saved;
  }
  throw new WalmgrError(
    'NO_SERVER_BINARIES',
    `no PostgreSQL ${major} server binaries for the backup (tried: ${tried.join(', ') || 'none'}); set slave_bin to them`,
    { major },
  );
}

/** The client program `name` of `major` (`pg_basebackup 15.x` for a 15 server), or null. */
export function clientProgram(
  settings: WalmgrSettings,
  major: number,
  name: string,
): string | null {
  for (const dir of candidateDirs(settings, major)) {
    const program = path.join(dir, name);
    if (!existsSync(program)) continue;
    const run = spawnSync(program, ['--version'], { encoding: 'utf8' });
    const version = /\(PostgreSQL\)\s+(\d+)/.exec(run.stdout ?? '')?.[1];
    if (Number(version) === major) return program;
  }
  return null;
}
