/**
 * A slave on another host, reached over ssh and rsync: a local sshd of the test's own (free
 * 127.0.0.1 port, its own host key, authorized key and config in a temp directory) stands in
 * for the slave host, named `walmgr-slave` in the master's INI (ssh_command maps it to
 * 127.0.0.1). The master's archive_command sends segments into the slave's archive, `backup`
 * rsyncs the data directory into a set the slave finishes (checksums, rotation), and the
 * master lists it. The stress run (SKYTOOLS_STRESS=1) also restores the set on the slave,
 * starts a server on it and checks the rows. Needs root, sshd and rsync; skipped with one line otherwise.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { quoteLiteral } from '../../src/db/quote.js';
import { Cluster, findFreePort } from '../../src/pg/index.js';
import { walmgrCommand } from '../../src/walmgr/commands-path.js';
import { useExtraClusters } from '../harness/clusters.js';
import { until } from '../harness/until.js';
import { switchAndWaitArchived, useWalmgrRun, walmgrBin } from './walmgr-run.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const stress = process.env.SKYTOOLS_STRESS === '1';
const sshd = '/usr/sbin/sshd';
const missing =
  process.getuid?.() !== 0
    ? 'not root: the test sshd runs as root'
    : !existsSync(sshd)
      ? `no ${sshd} (Debian openssh-server)`
      : spawnSync('rsync', ['--version']).status !== 0
        ? 'no rsync (Debian rsync)'
        : null;
if (missing !== null) console.warn(`remote: skipped, ${missing}`);

const run = useWalmgrRun();
const startCluster = useExtraClusters();
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe.skipIf(missing !== null)('a remote slave over ssh and rsync', () => {
  const slaveData = path.join(run.dir, 'slave-walshipping');
  let daemon: ChildProcess | undefined;
  let master: Cluster;
  let client: pg.Client;
  let masterIni: string;
  let slaveIni: string;

  beforeAll(async () => {
    master = await startCluster({ settings: { archive_mode: 'on', archive_command: "''" } });
    const { uid, gid } = (await import('node:fs')).statSync(master.paths.dataDir);
    const keys = path.join(run.dir, 'ssh');
    mkdirSync(keys, { mode: 0o755 });
    for (const key of ['host_key', 'id']) {
      const made = spawnSync('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-f',
        path.join(keys, key),
      ]);
      expect(made.status).toBe(0);
    }
    // The archive_command runs ssh as the server's user: the key is that user's.
    chownSync(path.join(keys, 'id'), uid, gid);
    writeFileSync(path.join(keys, 'authorized_keys'), readFileSync(path.join(keys, 'id.pub')));
    const port = await findFreePort();
    writeFileSync(
      path.join(keys, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(keys, 'host_key')}`,
        `PidFile ${path.join(keys, 'sshd.pid')}`,
        `AuthorizedKeysFile ${path.join(keys, 'authorized_keys')}`,
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'UsePAM no',
        '',
      ].join('\n'),
    );
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    daemon = spawn(sshd, ['-D', '-e', '-f', path.join(keys, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let said = '';
    daemon.stderr?.on('data', (chunk) => {
      said += chunk;
    });
    await until(
      () => `sshd to listen: ${said}`,
      async () => said,
      (text) => text.includes('Server listening'),
    );
    // The slave side, as its admin would prepare it: the archive belongs to the server's user.
    mkdirSync(path.join(slaveData, 'logs.complete'), { recursive: true, mode: 0o700 });
    chownSync(slaveData, uid, gid);
    chownSync(path.join(slaveData, 'logs.complete'), uid, gid);
    slaveIni = run.ini('slave', {
      job_name: 'wal-slave',
      walmgr_data: slaveData,
      slave_data: path.join(run.dir, 'restored', 'data'),
      logfile: path.join(run.dir, 'slave.log'),
    });
    masterIni = run.ini('master', {
      job_name: 'wal-master',
      master_db: `host=127.0.0.1 port=${master.port} dbname=postgres user=postgres`,
      master_data: master.paths.dataDir,
      slave: 'walmgr-slave',
      walmgr_data: `%(slave)s:${slaveData}`,
      slave_config: slaveIni,
      slave_walmgr: `${process.execPath} ${walmgrBin}`,
      ssh_command: [
        'ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no',
        '-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o HostName=127.0.0.1',
        `-p ${port} -i ${path.join(keys, 'id')} -l root`,
      ].join(' '),
    });
    client = new pg.Client(master.connectionConfig());
    await client.connect();
    await client.query(
      `alter system set archive_command = ${quoteLiteral(`${walmgrCommand(masterIni)} xarchive %p %f`)}`,
    );
    await client.query('select pg_reload_conf()');
  });

  afterAll(async () => {
    await client?.end();
    if (daemon !== undefined && daemon.exitCode === null) {
      const exited = new Promise((resolve) => daemon?.once('exit', resolve));
      daemon.kill('SIGTERM');
      await exited;
    }
  });

  test('archive_command sends each segment into the slave archive, with its checksum', async () => {
    await client.query('create table t (id int primary key)');
    await client.query('insert into t select generate_series(1, 100)');
    const wal = await switchAndWaitArchived(client);
    const archived = path.join(slaveData, 'logs.complete', wal);
    expect(readFileSync(`${archived}.sha256`, 'utf8')).toBe(`${sha256(archived)}  ${wal}\n`);
  });

  test('sync pipes the flushed, not yet archived WAL into the slave partial_wals', async () => {
    await client.query('insert into t select generate_series(1001, 1100)');
    const { rows } = await client.query<{ file: string; offset: number }>(
      'select file_name as file, file_offset as offset from pg_walfile_name_offset(pg_current_wal_flush_lsn())',
    );
    const at = rows[0] as { file: string; offset: number };
    const synced = await run.walmgr([masterIni, 'sync']);
    expect(synced.code).toBe(0);
    expect(synced.stderr).toMatch(new RegExp(`shipped .*${at.file} 0-\\d+`));
    const partial = readFileSync(path.join(slaveData, 'logs.partial', at.file));
    const segment = readFileSync(path.join(master.paths.dataDir, 'pg_wal', at.file));
    expect(partial.length).toBe(segment.length);
    expect(partial.subarray(0, at.offset).equals(segment.subarray(0, at.offset))).toBe(true);
  });

  test('backup rsyncs to the slave, which finishes the set; the master lists it (stress: the slave restores it, the rows are there)', async () => {
    const backup = await run.walmgr([masterIni, 'backup', '--label', 'over ssh']);
    expect(backup.stderr).toContain(`backup walmgr-slave:${slaveData}/data.master complete`);
    expect(backup.code).toBe(0);
    const listed = await run.walmgr([masterIni, 'listbackups']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^data\.master\t\S+\tover ssh\t[0-9A-F]{24}\t[0-9A-F]{24}$/m);
    const manifest = JSON.parse(
      readFileSync(path.join(slaveData, 'data.master', 'walmgr_manifest.json'), 'utf8'),
    ) as { files: { path: string; sha256: string }[] };
    const version = manifest.files.find((file) => file.path === 'PG_VERSION');
    expect(version?.sha256).toBe(sha256(path.join(master.paths.dataDir, 'PG_VERSION')));
    if (!stress) return;
    // Rows after the backup: the restored server must replay them from the slave's archive.
    await client.query('insert into t select generate_series(101, 150)');
    await switchAndWaitArchived(client);
    // restore checks every file against the manifest the slave wrote.
    const restored = await run.walmgr([slaveIni, 'restore', '--recovery']);
    expect(restored.stderr).toContain('is ready (recovery.signal)');
    expect(restored.code).toBe(0);
    writeFileSync(
      path.join(run.dir, 'restored', 'skytools-cluster.json'),
      readFileSync(path.join(path.dirname(master.paths.dataDir), 'skytools-cluster.json')),
    );
    const copy = await Cluster.open(path.join(run.dir, 'restored'));
    await copy.start({ port: await findFreePort() });
    try {
      const other = new pg.Client(copy.connectionConfig());
      await other.connect();
      try {
        await until(
          'the restored server to finish recovery',
          async () => (await other.query('select pg_is_in_recovery() as r')).rows[0].r,
          (recovering) => recovering === false,
        );
        expect((await other.query('select count(*)::int as n from t')).rows[0].n).toBe(150);
      } finally {
        await other.end();
      }
    } finally {
      await copy.stop({ mode: 'immediate' });
    }
  });

  test('-n sends nothing; a slave that cannot be reached is one line naming it', async () => {
    const dry = await run.walmgr(['-n', masterIni, 'backup']);
    expect(dry.stderr).toContain(`would back up ${master.paths.dataDir} into walmgr-slave:`);
    const unreachable = run.ini('unreachable', {
      master_data: master.paths.dataDir,
      walmgr_data: `walmgr-slave:${slaveData}`,
      slave_config: slaveIni,
      ssh_command: 'ssh -F /dev/null -o BatchMode=yes -o HostName=127.0.0.1 -p 1',
    });
    const failed = await run.walmgr([unreachable, 'listbackups']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /walmgr listbackups on walmgr-slave failed \(exit 255\): .*refused/,
    );
    const elsewhere = await run.walmgr([masterIni, 'xpurgewals']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(
      `xpurgewals works on the archive, which is on walmgr-slave: run it there with ${slaveIni}`,
    );
    const noConfig = run.ini('no-config', { walmgr_data: `walmgr-slave:${slaveData}` });
    const refused = await run.walmgr([noConfig, 'listbackups']);
    expect(refused.stderr).toContain("slave_config must name the slave's INI file there");
  });
});
