/**
 * Segments archived by a real server while another session writes all along: every segment
 * from the first to the last switched one is in the archive, none missing, each matching its
 * recorded SHA-256. The normal suite archives 10 through archive-ahead; `npm run test:stress`
 * (SKYTOOLS_STRESS=1) archives 200 with plain xarchive, then 200 through archive-ahead.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Cluster } from '../../src/pg/index.js';
import { restart, useRestartableClusters } from '../harness/clusters.js';
import { until } from '../harness/until.js';
import { switchAndWaitArchived, useWalmgrRun, walmgrBin } from './walmgr-run.js';

const stress = process.env.SKYTOOLS_STRESS === '1';
const segments = stress ? 200 : 10;
const slow = stress ? 1_800_000 : 240_000;
const startCluster = useRestartableClusters();
const run = useWalmgrRun();

describe(`${segments} segments archived under write load`, () => {
  let master: Cluster;
  let client: pg.Client;
  const archive = path.join(run.dir, 'walshipping', 'logs.complete');
  const ini = (ahead: boolean) =>
    run.ini(ahead ? 'ahead' : 'plain', {
      job_name: 'load',
      master_db: `host=127.0.0.1 port=${master.port} dbname=postgres user=postgres`,
      master_data: master.paths.dataDir,
      walmgr_data: path.join(run.dir, 'walshipping'),
      archive_ahead: ahead ? 'yes' : 'no',
    });

  beforeAll(async () => {
    master = await startCluster();
    expect((await run.walmgr([ini(false), 'setup'])).code).toBe(0);
    await restart(master);
    client = new pg.Client(master.connectionConfig());
    await client.connect();
    await client.query('create table load (id serial, filler text)');
  }, slow);

  afterAll(async () => {
    await client?.end();
  });

  async function archiveUnderLoad(): Promise<void> {
    const writer = new pg.Client(master.connectionConfig());
    await writer.connect();
    let writing = true;
    const load = (async () => {
      while (writing) {
        await writer.query(
          "insert into load (filler) select repeat('y', 300) from generate_series(1, 100)",
        );
      }
    })();
    const switched: string[] = [];
    try {
      switched.push(await switchAndWaitArchived(client));
      for (let i = 1; i < segments; i++) {
        await client.query("insert into load (filler) values ('switch')");
        const { rows } = await client.query('select pg_walfile_name(pg_switch_wal()) as w');
        switched.push(rows[0].w as string);
      }
      await until(
        `${switched.at(-1)} archived`,
        async () =>
          (await client.query('select last_archived_wal as w from pg_stat_archiver')).rows[0].w,
        (last) => last !== null && last >= (switched.at(-1) as string),
        stress ? 1_200_000 : 120_000,
      );
    } finally {
      writing = false;
      await load;
      await writer.end();
    }
    const first = switched[0] as string;
    const last = switched.at(-1) as string;
    const archived = readdirSync(archive)
      .filter((name) => /^[0-9A-F]{24}$/.test(name) && name >= first && name <= last)
      .sort();
    const expected = [];
    for (let n = Number.parseInt(first.slice(16), 16); ; n++) {
      const name = `${first.slice(0, 16)}${n.toString(16).toUpperCase().padStart(8, '0')}`;
      expected.push(name);
      if (name >= last) break;
    }
    expect(archived).toEqual(expected);
    expect(archived.length).toBeGreaterThanOrEqual(segments);
    for (const name of archived) {
      const recorded = readFileSync(path.join(archive, `${name}.sha256`), 'utf8').split(' ')[0];
      const actual = createHash('sha256')
        .update(readFileSync(path.join(archive, name)))
        .digest('hex');
      expect(actual, name).toBe(recorded);
    }
  }

  test.runIf(stress)(
    'plain xarchive: no segment missing, every checksum right',
    archiveUnderLoad,
    slow,
  );

  test(
    'archive-ahead: no segment missing, every checksum right, no marker left',
    async () => {
      expect((await run.walmgr([ini(true), 'setup'])).code).toBe(0);
      const daemon: ChildProcess = spawn(
        process.execPath,
        [walmgrBin, ini(true), 'archive-ahead'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let log = '';
      daemon.stderr?.on('data', (chunk: Buffer) => {
        log += chunk;
      });
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      try {
        await until(
          'the daemon to start',
          async () => log,
          (text) => text.includes('archiving .ready'),
        );
        await archiveUnderLoad();
      } finally {
        daemon.kill('SIGTERM');
        await exited;
      }
      expect(log).not.toContain('WARNING');
      await until(
        'the markers to be confirmed',
        async () => readdirSync(path.join(archive, '.ahead')),
        (left) => left.length === 0,
      );
    },
    slow,
  );
});
