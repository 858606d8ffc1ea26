/**
 * Streaming standbys: `createslave` from scratch (walmgr's own backup where the master's data
 * directory is readable, `pg_basebackup` of the master's version where it is not), started by
 * `slave_start_cmd` and streaming, a tablespace carried along; `synch-standby` makes commits wait for it, and refuses a
 * name no standby has.
 */
import { spawn } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Cluster, findFreePort } from '../../src/pg/index.js';
import { restart, useRestartableClusters } from '../harness/clusters.js';
import { runBin } from '../harness/run-bin.js';
import { until } from '../harness/until.js';
import { switchAndWaitArchived, useWalmgrRun, walmgrBin } from './walmgr-run.js';

const slow = 240_000;
const skytoolsBin = path.resolve(import.meta.dirname, '../../bin/skytools.js');
const startCluster = useRestartableClusters();
const run = useWalmgrRun();

describe('walmgr createslave and synch-standby', () => {
  let master: Cluster;
  let client: pg.Client;
  let masterIni: string;
  let spaceOid: string;
  const standbys: string[] = [];

  beforeAll(async () => {
    master = await startCluster();
    masterIni = run.ini('master', {
      job_name: 'wal-master',
      master_db: `host=127.0.0.1 port=${master.port} dbname=postgres user=postgres`,
      master_data: master.paths.dataDir,
      walmgr_data: path.join(run.dir, 'walshipping'),
    });
    expect((await run.walmgr([masterIni, 'setup'])).code).toBe(0);
    await restart(master);
    client = new pg.Client(master.connectionConfig());
    await client.connect();
    await client.query('create table t (id int primary key)');
    await client.query('insert into t select generate_series(1, 100)');
    // A tablespace outside the data directory: backups carry it as tmpspc/<oid>.
    const space = path.join(run.dir, 'space');
    mkdirSync(space);
    const owner = statSync(master.paths.dataDir);
    if (process.getuid?.() === 0) chownSync(space, owner.uid, owner.gid);
    await client.query(`create tablespace outside location '${space}'`);
    await client.query('create table moved (id int) tablespace outside');
    await client.query('insert into moved select generate_series(1, 70)');
    spaceOid = (await client.query("select oid::text from pg_tablespace where spcname = 'outside'"))
      .rows[0].oid;
  }, slow);

  afterAll(async () => {
    await client?.end();
    for (const dir of standbys) {
      if (existsSync(path.join(dir, 'data', 'postmaster.pid'))) {
        await (await Cluster.open(dir)).stop({ mode: 'immediate' });
      }
    }
  });

  /** A directory for a standby that `skytools cluster start` can start, and its slave INI. */
  async function slaveIni(name: string, keys: Record<string, string>): Promise<string> {
    const dir = path.join(run.dir, name);
    mkdirSync(dir);
    const owner = statSync(master.paths.dataDir);
    if (process.getuid?.() === 0) chownSync(dir, owner.uid, owner.gid);
    copyFileSync(master.paths.metadataFile, path.join(dir, 'skytools-cluster.json'));
    standbys.push(dir);
    const port = await findFreePort();
    return run.ini(name, {
      job_name: name,
      slave_data: path.join(dir, 'data'),
      primary_conninfo: `host=127.0.0.1 port=${master.port} user=postgres application_name=${name}`,
      // A standby asks the archive again every wal_retrieve_retry_interval (5 s): quicker here.
      slave_start_cmd: `echo "wal_retrieve_retry_interval = '200ms'" >> ${dir}/data/postgresql.auto.conf && ${process.execPath} ${skytoolsBin} cluster start --dir ${dir} --port ${port}`,
      ...keys,
    });
  }

  async function standbyCount(name: string): Promise<pg.Client> {
    const standby = await Cluster.open(path.join(run.dir, name));
    const reader = new pg.Client(standby.connectionConfig());
    reader.on('error', () => {});
    await reader.connect();
    return reader;
  }

  test(
    'createslave from the master data directory: a standby that streams; synch-standby waits for it',
    async () => {
      const ini = await slaveIni('slave1', {
        walmgr_data: path.join(run.dir, 'walshipping'),
        master_db: `host=127.0.0.1 port=${master.port} dbname=postgres user=postgres`,
        master_data: master.paths.dataDir,
      });
      const dry = await run.walmgr(['-n', ini, 'createslave']);
      expect(dry.code).toBe(0);
      expect(dry.stderr).toContain('would take a base backup (walmgr backup)');
      expect(existsSync(path.join(run.dir, 'slave1', 'data'))).toBe(false);

      const created = await run.walmgr([ini, 'createslave']);
      expect(created.stderr).toContain('streams from the master (application_name slave1)');
      expect(created.code).toBe(0);
      expect(
        readFileSync(path.join(run.dir, 'slave1', 'data', 'postgresql.auto.conf'), 'utf8'),
      ).toContain('application_name=slave1');
      const reader = await standbyCount('slave1');
      try {
        await client.query('insert into t select generate_series(101, 150)');
        await until(
          'the standby to stream the new rows',
          async () => (await reader.query('select count(*)::int as n from t')).rows[0].n,
          (n) => n === 150,
        );
        expect((await reader.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(true);
        expect((await reader.query('select count(*)::int as n from moved')).rows[0].n).toBe(70);
        const standbyData = path.join(run.dir, 'slave1', 'data');
        expect(readlinkSync(path.join(standbyData, 'pg_tblspc', spaceOid))).toBe(
          path.join(standbyData, 'tmpspc', spaceOid),
        );

        const refused = await run.walmgr([ini, 'synch-standby', 'nosuch']);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(
          'none of the standbys "nosuch" is streaming from the master (streaming: slave1)',
        );
        const on = await run.walmgr([ini, 'synch-standby', 'FIRST 1 (slave1)']);
        expect(on.code).toBe(0);
        await until(
          'synchronous replication to take effect',
          async () =>
            (
              await client.query(
                "select sync_state from pg_stat_replication where application_name = 'slave1'",
              )
            ).rows[0]?.sync_state,
          (state) => state === 'sync',
        );
        await client.query('insert into t values (151)');
        expect((await reader.query('select count(*)::int as n from t')).rows[0].n).toBeGreaterThan(
          149,
        );
        const off = await run.walmgr([ini, 'synch-standby', '']);
        expect(off.code).toBe(0);
        const names = async () =>
          (await client.query("select current_setting('synchronous_standby_names') as v")).rows[0]
            .v;
        expect(await names()).toBe('');
        // Upstream's form without an INI: the libpq environment names the master.
        const env = { PGHOST: '127.0.0.1', PGPORT: String(master.port), PGUSER: 'postgres' };
        const bare = (args: string[]) =>
          runBin('walmgr', args, { cwd: run.dir, env: { ...env, PGDATABASE: 'postgres' } });
        const dryBare = await bare(['-n', '--synch-standby=slave1']);
        expect(dryBare.stderr).toContain("would set synchronous_standby_names = 'slave1'");
        expect(await names()).toBe('');
        const onBare = await bare(['--synch-standby=slave1']);
        expect(onBare.code).toBe(0);
        await until('synchronous_standby_names from --synch-standby', names, (v) => v === 'slave1');
        const refusedBare = await bare(['--synch-standby', 'nosuch']);
        expect(refusedBare.code).toBe(1);
        expect(refusedBare.stderr).toContain('none of the standbys "nosuch" is streaming');
        expect((await bare(['--synch-standby='])).code).toBe(0);
        await until('synchronous_standby_names off again', names, (v) => v === '');
      } finally {
        await reader.end();
      }
    },
    slow,
  );

  test(
    'createslave through pg_basebackup where the master data directory is not given',
    async (context) => {
      const major = readFileSync(path.join(master.paths.dataDir, 'PG_VERSION'), 'utf8').trim();
      const program = [process.env.SKYTOOLS_PG_BIN, `/usr/lib/postgresql/${major}/bin`]
        .filter((dir): dir is string => dir !== undefined && dir !== '')
        .map((dir) => path.join(dir, 'pg_basebackup'))
        .find((file) => existsSync(file));
      if (program === undefined) {
        // The embedded PostgreSQL has no client programs; the error says what is missing.
        const ini = await slaveIni('slave2', { walmgr_data: path.join(run.dir, 'ws2') });
        const refused = await run.walmgr([ini, 'createslave']);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`createslave needs pg_basebackup of PostgreSQL ${major}`);
        context.skip(`no pg_basebackup of PostgreSQL ${major} on this machine`);
        return;
      }
      const ini = await slaveIni('slave2', { walmgr_data: path.join(run.dir, 'ws2') });
      const created = await run.walmgr([ini, 'createslave']);
      expect(created.stderr).toContain(`running ${program} -D`);
      expect(created.stderr).toContain('streams from the master (application_name slave2)');
      expect(created.code).toBe(0);
      const list = await run.walmgr([ini, 'listbackups']);
      expect(list.stdout).toMatch(
        /^data\.master\t.*\twalmgr createslave .*\t[0-9A-F]{24}\t[0-9A-F]{24}$/m,
      );
      const reader = await standbyCount('slave2');
      try {
        await client.query('insert into t select generate_series(1001, 1010)');
        await until(
          'the second standby to stream the new rows',
          async () =>
            (await reader.query('select count(*)::int as n from t where id > 1000')).rows[0].n,
          (n) => n === 10,
        );
        expect((await reader.query('select count(*)::int as n from moved')).rows[0].n).toBe(70);
      } finally {
        await reader.end();
      }
    },
    slow,
  );

  test(
    'sync ships the WAL not yet archived; boot hands it to a standby that reads only the archive',
    async () => {
      const ini = await slaveIni('slave3', {
        walmgr_data: path.join(run.dir, 'walshipping'),
        primary_conninfo: '',
      });
      const restored = await run.walmgr([ini, 'restore']);
      expect(restored.code).toBe(0);
      const reader = await standbyCount('slave3');
      try {
        await client.query('create table late (id int)');
        await switchAndWaitArchived(client);
        await until(
          'the standby to replay the archive',
          async () =>
            (await reader.query("select count(*)::int as n from pg_class where relname = 'late'"))
              .rows[0].n,
          (n) => n === 1,
        );
        // Committed after the last archived segment: only sync can carry these rows.
        await client.query('insert into late select generate_series(1, 25)');
        const current = (
          await client.query('select pg_walfile_name(pg_current_wal_flush_lsn()) as w')
        ).rows[0].w as string;
        const synced = await run.walmgr([masterIni, 'sync']);
        expect(synced.code).toBe(0);
        const end = new RegExp(`shipped .*${current} 0-(\\d+)`).exec(synced.stderr)?.[1];
        expect(end, synced.stderr).toBeDefined();
        const partial = path.join(run.dir, 'walshipping', 'logs.partial', current);
        expect(statSync(partial).size).toBe(16 * 1024 * 1024);
        const again = await run.walmgr([masterIni, 'sync']);
        // Only what was written since (the server writes a little WAL of its own now and then).
        expect(again.stderr).toMatch(new RegExp(`nothing new|shipped ${current} ${end}-\\d+`));
        expect(
          (await client.query('select last_archived_wal as w from pg_stat_archiver')).rows[0].w <
            current,
        ).toBe(true);
        expect((await reader.query('select count(*)::int as n from late')).rows[0].n).toBe(0);

        const boot = await run.walmgr([ini, 'boot']);
        expect(boot.code).toBe(0);
        await until(
          'the standby to be promoted',
          async () => (await reader.query('select pg_is_in_recovery() as r')).rows[0].r,
          (inRecovery) => inRecovery === false,
        );
        expect((await reader.query('select count(*)::int as n from late')).rows[0].n).toBe(25);
      } finally {
        await reader.end();
      }
    },
    slow,
  );

  test(
    'archive_ahead: the daemon archives, archive_command only confirms; without it xarchive runs',
    async () => {
      const logfile = path.join(run.dir, 'ahead.log');
      const ini = run.ini('ahead', {
        job_name: 'ahead',
        logfile,
        master_db: `host=127.0.0.1 port=${master.port} dbname=postgres user=postgres`,
        master_data: master.paths.dataDir,
        walmgr_data: path.join(run.dir, 'walshipping'),
        archive_ahead: 'yes',
      });
      expect((await run.walmgr([ini, 'setup'])).code).toBe(0);
      const command = (await client.query("select current_setting('archive_command') as c")).rows[0]
        .c as string;
      expect(command).toMatch(
        /^\/bin\/sh -c '.*\.ahead.*xarchive "\$1" "\$2"' walmgr-ahead %p %f$/,
      );
      const daemon = spawn(process.execPath, [walmgrBin, ini, 'archive-ahead'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let daemonLog = '';
      daemon.stderr.on('data', (chunk: Buffer) => {
        daemonLog += chunk;
      });
      const exited = new Promise((resolve) => daemon.once('exit', resolve));
      const archive = path.join(run.dir, 'walshipping', 'logs.complete');
      try {
        await until(
          'the daemon to start',
          async () => daemonLog,
          (text) => text.includes('archiving .ready'),
        );
        await client.query('insert into t values (2001)');
        const fast = await switchAndWaitArchived(client);
        expect(existsSync(path.join(archive, `${fast}.sha256`))).toBe(true);
        expect(existsSync(path.join(archive, '.ahead', fast))).toBe(false);
        expect(existsSync(logfile) ? readFileSync(logfile, 'utf8') : '').not.toContain(
          `archived ${fast}`,
        );
      } finally {
        daemon.kill('SIGTERM');
        await exited;
      }
      expect(daemonLog).toContain('archive-ahead stopped');
      expect(existsSync(path.join(archive, '.ahead', '.alive'))).toBe(false);
      await client.query('insert into t values (2002)');
      const slow = await switchAndWaitArchived(client);
      expect(readFileSync(logfile, 'utf8')).toContain(`archived ${slow}`);
    },
    slow,
  );

  test('createslave without primary_conninfo is one line naming the setting', async () => {
    const ini = run.ini('noprimary', {
      job_name: 'noprimary',
      slave_data: path.join(run.dir, 'noprimary', 'data'),
      walmgr_data: path.join(run.dir, 'ws3'),
    });
    const refused = await run.walmgr([ini, 'createslave']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `walmgr: error: createslave needs primary_conninfo in ${ini}: the standby streams from the master`,
    );
  });
});
