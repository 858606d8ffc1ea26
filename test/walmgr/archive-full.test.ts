/**
 * The archive's file system fills up: the archive directory is a small tmpfs, the server
 * writes more WAL than fits, archive_command fails with ENOSPC named in the server's log and
 * the server keeps the segments and retries; no half-written segment is ever left under its
 * final name. Once the file system is grown (`mount -o remount,size=`) every segment arrives,
 * each matching its recorded SHA-256, none missing between the first and the last one.
 * Needs root (mount); skipped with one line otherwise.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { quoteLiteral } from '../../src/db/quote.js';
import type { Cluster } from '../../src/pg/index.js';
import { segmentRange } from '../../src/walmgr/backup-wal.js';
import { walmgrCommand } from '../../src/walmgr/commands-path.js';
import { useExtraClusters } from '../harness/clusters.js';
import { until } from '../harness/until.js';
import { useWalmgrRun } from './walmgr-run.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const run = useWalmgrRun();
const mountPoint = path.join(run.dir, 'archive');
mkdirSync(mountPoint);

/** Mount a 40 MB tmpfs (two 16 MB segments and change); null, or why it cannot be done. */
function mountSmall(): string | null {
  if (process.getuid?.() !== 0) return 'not root: mounting a small tmpfs needs root';
  const mounted = spawnSync(
    'mount',
    ['-t', 'tmpfs', '-o', 'size=40m,mode=0700', 'walmgr-full', mountPoint],
    {
      encoding: 'utf8',
    },
  );
  if (mounted.status !== 0) {
    return `mount -t tmpfs refused: ${(mounted.stderr || mounted.error?.message || '').trim()}`;
  }
  return null;
}

const cannot = mountSmall();
if (cannot !== null) console.warn(`archive-full: skipped, ${cannot}`);

// Registered before the cluster's own afterAll, so it runs after the server is stopped.
afterAll(() => {
  if (cannot !== null) return;
  const unmounted = spawnSync('umount', [mountPoint], { encoding: 'utf8' });
  // An archive_command still running holds a file open: detach it instead.
  if (unmounted.status !== 0) spawnSync('umount', ['-l', mountPoint]);
});

const startCluster = useExtraClusters();

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe.skipIf(cannot !== null)('an archive whose file system is full', () => {
  let master: Cluster;
  let client: pg.Client;
  let ini: string;

  beforeAll(async () => {
    // No archive_command yet: segments wait as .ready until the real one is set.
    master = await startCluster({ settings: { archive_mode: 'on', archive_command: "''" } });
    const owner = statSync(master.paths.dataDir);
    chownSync(mountPoint, owner.uid, owner.gid);
    ini = run.ini('full', {
      job_name: 'wal-full',
      master_data: master.paths.dataDir,
      walmgr_data: path.join(run.dir, 'walshipping'),
      completed_wals: mountPoint,
    });
    client = new pg.Client(master.connectionConfig());
    await client.connect();
    await client.query('create table filler (id serial, note text)');
  });

  afterAll(async () => {
    await client?.end();
  });

  const archiver = async () =>
    (
      await client.query<{ last: string | null; failed: string | null; failures: string }>(
        'select last_archived_wal as last, last_failed_wal as failed, failed_count::text as failures from pg_stat_archiver',
      )
    ).rows[0] as { last: string | null; failed: string | null; failures: string };

  test('archive_command fails with ENOSPC, the server retries, and all arrives once there is room', async () => {
    const { rows } = await client.query<{ wal: string }>(
      'select pg_walfile_name(pg_current_wal_insert_lsn()) as wal',
    );
    const first = rows[0]?.wal as string;
    // Five segments: more than the 40 MB file system holds.
    let last = first;
    for (let i = 0; i < 5; i++) {
      await client.query(
        "insert into filler (note) select repeat('w', 200) from generate_series(1, 500)",
      );
      const switched = await client.query<{ wal: string }>(
        'select pg_walfile_name(pg_switch_wal()) as wal',
      );
      last = switched.rows[0]?.wal as string;
    }
    await client.query(
      `alter system set archive_command = ${quoteLiteral(`${walmgrCommand(ini)} xarchive %p %f`)}`,
    );
    await client.query('select pg_reload_conf()');

    const failed = await until(
      'archive_command to fail on the full file system',
      archiver,
      (row) => Number(row.failures) > 0,
    );
    expect(failed.failed).not.toBeNull();
    const log = await until(
      'the failure in the server log',
      async () => readFileSync(master.paths.logFile, 'utf8'),
      (text) => text.includes('ENOSPC'),
    );
    expect(log).toMatch(
      /xarchive: could not store [0-9A-F]{24} in .* \(ENOSPC, the archive file system is full\)/,
    );
    // What is under a final name is whole: its recorded checksum matches its bytes.
    const whole = () => {
      const names = readdirSync(mountPoint).filter((name) => /^[0-9A-F]{24}$/.test(name));
      for (const name of names) {
        const recorded = readFileSync(path.join(mountPoint, `${name}.sha256`), 'utf8').split(
          ' ',
        )[0];
        expect(sha256(path.join(mountPoint, name)), name).toBe(recorded);
      }
      return names;
    };
    const before = whole();
    expect(before.length).toBeLessThan(segmentRange(first, last, 16 * 1024 * 1024).length);
    expect(before).not.toContain(failed.failed);

    const grown = spawnSync('mount', ['-o', 'remount,size=200m', mountPoint], { encoding: 'utf8' });
    expect(grown.stderr).toBe('');
    expect(grown.status).toBe(0);
    // The archiver waits a minute after three failures; a reload wakes it.
    await client.query('select pg_reload_conf()');
    await until('every segment archived', archiver, (row) => row.last !== null && row.last >= last);
    const after = whole();
    expect(after).toEqual(expect.arrayContaining(segmentRange(first, last, 16 * 1024 * 1024)));
    expect(readdirSync(mountPoint).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
