/**
 * walmgr tests: a directory the server's OS user can reach (the server runs xarchive and
 * xrestore as that user), INI files in it, and our bin run through node.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll } from 'vitest';
import { runBin } from '../harness/run-bin.js';
import { until } from '../harness/until.js';

export const walmgrBin = path.resolve(import.meta.dirname, '../../bin/walmgr.js');

export interface WalmgrRun {
  dir: string;
  /** Write `<name>.ini` with a [walmgr] section of these keys; returns its path. */
  ini(name: string, keys: Record<string, string | number>): string;
  /** Run `walmgr ARGS` to its end. */
  walmgr(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export function useWalmgrRun(): WalmgrRun {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-walmgr-'));
  // The server (an unprivileged user when we are root) reads the INI and writes the archive.
  chmodSync(dir, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir,
    ini(name, keys) {
      const file = path.join(dir, `${name}.ini`);
      const lines = Object.entries(keys).map(([key, value]) => `${key} = ${value}`);
      writeFileSync(file, `[walmgr]\n${lines.join('\n')}\n`, { mode: 0o644 });
      return file;
    },
    walmgr(args) {
      return runBin('walmgr', args, { cwd: dir });
    },
  };
}

/**
 * Close the segment in use and wait until the server has archived it. The switch is asked
 * again every few seconds while it is not archived: a pg_switch_wal() has been seen to leave
 * the segment open on PostgreSQL 18 right after a base backup's end, and waiting for an
 * archive that never comes says nothing about walmgr.
 */
export async function switchAndWaitArchived(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ wal: string }>(
    'select pg_walfile_name(pg_current_wal_insert_lsn()) as wal',
  );
  const wal = rows[0]?.wal as string;
  let asked = 0;
  await until(
    `${wal} archived`,
    async () => {
      if (Date.now() - asked > 5000) {
        asked = Date.now();
        await client.query('select pg_switch_wal()');
      }
      return (
        await client.query<{ last: string | null; failed: string | null }>(
          'select last_archived_wal as last, last_failed_wal as failed from pg_stat_archiver',
        )
      ).rows[0];
    },
    (row) => row !== undefined && row.last !== null && row.last >= wal,
  );
  return wal;
}
