/**
 * From setup to point-in-time recovery on a real server: archiving switched on by `setup`,
 * WAL archived under write load, a base backup taken while rows keep arriving, a restore into
 * a new directory with a recovery target time between two known transactions, and the
 * recovered server holds exactly the rows committed before that time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// Each step starts node processes and servers: generous on a loaded machine.
const slow = 240_000;

import { Cluster, findFreePort } from '../../src/pg/index.js';
import { restart, useRestartableClusters } from '../harness/clusters.js';
import { until } from '../harness/until.js';
import { switchAndWaitArchived, useWalmgrRun, walmgrBin } from './walmgr-run.js';

const startCluster = useRestartableClusters();
const run = useWalmgrRun();

describe('walmgr setup, archive, backup, restore to a point in time', () => {
  let master: Cluster;
  let client: pg.Client;
  let masterIni: string;
  let slaveIni: string;
  const restored: Cluster[] = [];

  beforeAll(async () => {
    master = await startCluster();
    masterIni = run.ini('master', {
      job_name: 'wal-master',
      logfile: path.join(run.dir, 'master.log'),
      master_db: `host=127.0.0.1 port=${master.port} dbname=postgres user=postgres`,
      master_data: master.paths.dataDir,
      walmgr_data: path.join(run.dir, 'walshipping'),
      keep_backups: 1,
    });
    slaveIni = run.ini('slave', {
      job_name: 'wal-slave',
      walmgr_data: path.join(run.dir, 'walshipping'),
      slave_data: path.join(run.dir, 'restored', 'data'),
    });
  });

  afterAll(async () => {
    await client?.end();
    for (const cluster of restored) await cluster.stop({ mode: 'immediate' });
  });

  test(
    'setup switches archiving on and asks for the restart archive_mode needs',
    async () => {
      const setup = await run.walmgr([masterIni, 'setup']);
      expect(setup.stderr).toContain('restart the server for archive_mode');
      expect(setup.code).toBe(0);
      await restart(master);
      client = new pg.Client(master.connectionConfig());
      await client.connect();
      const { rows } = await client.query(
        "select current_setting('archive_mode') as mode, current_setting('archive_command') as command",
      );
      expect(rows[0].mode).toBe('on');
      expect(rows[0].command).toContain(`${masterIni} xarchive %p %f`);
      const again = await run.walmgr([masterIni, 'setup']);
      expect(again.stderr).toContain('archiving was already set up');
    },
    slow,
  );

  test(
    'a backup under write load, then recovery to a time between two transactions',
    async () => {
      await client.query('create table t (id int primary key, note text)');
      await client.query('create table load (id serial, filler text)');
      await client.query("insert into t select g, 'before backup' from generate_series(1, 100) g");
      // Write load during the backup and the archiving: another session inserting all along.
      const writer = new pg.Client(master.connectionConfig());
      await writer.connect();
      let writing = true;
      const load = (async () => {
        while (writing) {
          await writer.query(
            "insert into load (filler) select repeat('x', 500) from generate_series(1, 50)",
          );
          // Paced, so the load spans a few segments rather than hundreds.
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      try {
        await switchAndWaitArchived(client);
        const backup = await run.walmgr([masterIni, 'backup', '--label', 'pitr test']);
        expect(backup.stderr).toMatch(/backup .* complete/);
        expect(backup.code).toBe(0);
        await client.query("insert into t select g, 'A' from generate_series(101, 200) g");
        const { rows } = await client.query<{ at: string }>('select clock_timestamp()::text as at');
        const target = rows[0]?.at as string;
        await until(
          'the clock to pass the target',
          async () =>
            (await client.query('select clock_timestamp() > $1::timestamptz as past', [target]))
              .rows[0].past,
          (past) => past === true,
        );
        await client.query("insert into t select g, 'B' from generate_series(201, 300) g");
        await switchAndWaitArchived(client);
        writing = false;
        await load;

        const list = await run.walmgr([masterIni, 'listbackups']);
        expect(list.stdout).toMatch(/^data\.master\t.*\tpitr test\t[0-9A-F]{24}\t/m);

        const restore = await run.walmgr([slaveIni, 'restore', '--recovery-target-time', target]);
        expect(restore.stderr).toContain('recovery.signal');
        expect(restore.code).toBe(0);
        const dir = path.join(run.dir, 'restored');
        expect(existsSync(path.join(dir, 'data', 'recovery.signal'))).toBe(true);
        expect(
          readdirSync(path.join(dir, 'data', 'pg_wal')).filter((f) => /^[0-9A-F]{24}$/.test(f)),
        ).toEqual([]);
        expect(readFileSync(path.join(dir, 'data', 'postgresql.auto.conf'), 'utf8')).toContain(
          `recovery_target_time = '${target}'`,
        );
        copyFileSync(master.paths.metadataFile, path.join(dir, 'skytools-cluster.json'));
        const copy = await Cluster.open(dir);
        restored.push(copy);
        await copy.start({ port: await findFreePort(), stopOnExit: true });
        const reader = new pg.Client(copy.connectionConfig());
        await reader.connect();
        try {
          await until(
            'the restored server to reach its target and promote',
            async () => (await reader.query('select pg_is_in_recovery() as r')).rows[0].r,
            (inRecovery) => inRecovery === false,
          );
          const counts = await reader.query<{ note: string; n: string; lo: number; hi: number }>(
            'select note, count(*) as n, min(id) as lo, max(id) as hi from t group by note order by min(id)',
          );
          expect(counts.rows).toEqual([
            { note: 'before backup', n: '100', lo: 1, hi: 100 },
            { note: 'A', n: '100', lo: 101, hi: 200 },
          ]);
        } finally {
          await reader.end();
        }
      } finally {
        writing = false;
        await load;
        await writer.end();
      }
    },
    slow,
  );
  test(
    'a standby restored from the backup follows the archive and is promoted by boot',
    async () => {
      const busy = await run.walmgr([slaveIni, 'restore']);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(
        `a server is running on ${path.join(run.dir, 'restored', 'data')}`,
      );
      await restored[0]?.stop({ mode: 'fast' });
      const restore = await run.walmgr([slaveIni, 'restore']);
      expect(restore.stderr).toContain('standby.signal');
      expect(restore.code).toBe(0);
      const dir = path.join(run.dir, 'restored');
      // backup_datadir (default yes): the previous data directory is kept beside it.
      expect(existsSync(path.join(dir, 'data.0', 'PG_VERSION'))).toBe(true);
      const standby = await Cluster.open(dir);
      restored.push(standby);
      await standby.start({ port: await findFreePort(), stopOnExit: true });
      const reader = new pg.Client(standby.connectionConfig());
      reader.on('error', () => {}); // the server is stopped after the file, maybe before this ends
      await reader.connect();
      try {
        await client.query("insert into t select g, 'C' from generate_series(301, 310) g");
        await switchAndWaitArchived(client);
        await until(
          'the standby to replay the archived rows',
          async () =>
            (await reader.query("select count(*)::int as n from t where note = 'C'")).rows[0].n,
          (n) => n === 10,
        );
        expect((await reader.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(true);
        const boot = await run.walmgr([slaveIni, 'boot']);
        expect(boot.code).toBe(0);
        expect(boot.stderr).toContain('promoting the standby');
        await until(
          'the standby to be promoted',
          async () => (await reader.query('select pg_is_in_recovery() as r')).rows[0].r,
          (inRecovery) => inRecovery === false,
        );
        const { rows } = await reader.query('select count(*)::int as n from t');
        expect(rows[0].n).toBe(310);
      } finally {
        await reader.end();
      }
    },
    slow,
  );

  test(
    'keep_backups rotates the sets, purges WAL no backup needs; the lock refuses a second backup',
    async () => {
      const second = await run.walmgr([masterIni, 'backup', '--label', 'second']);
      expect(second.code).toBe(0);
      const third = await run.walmgr([masterIni, 'backup', '--label', 'third']);
      expect(third.code).toBe(0);
      expect(third.stderr).toContain(
        `deleted old backup ${path.join(run.dir, 'walshipping', 'data.master.0')}`,
      );
      const list = await run.walmgr([masterIni, 'listbackups']);
      const sets = list.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split('\t').slice(0, 3));
      expect(sets.map(([name, , label]) => [name, label])).toEqual([
        ['data.master', 'third'],
        ['data.master.0', 'second'],
      ]);
      const oldestStart = list.stdout.trim().split('\n')[2]?.split('\t')[3] as string;
      const archived = readdirSync(path.join(run.dir, 'walshipping', 'logs.complete')).filter((f) =>
        /^[0-9A-F]{24}$/.test(f),
      );
      expect(archived.length).toBeGreaterThan(0);
      expect(
        archived.filter((f) => f.slice(0, 8) === oldestStart.slice(0, 8) && f < oldestStart),
      ).toEqual([]);

      // A live holder (this test process) keeps the lock; a dead one is taken over.
      const lock = path.join(run.dir, 'walshipping', 'logs.complete', 'BACKUPLOCK');
      writeFileSync(lock, `${process.pid}\n`);
      const refused = await run.walmgr([masterIni, 'backup']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `another backup is running (pid ${process.pid}, lock ${lock})`,
      );
      expect(readFileSync(lock, 'utf8')).toBe(`${process.pid}\n`);
      const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid as number;
      writeFileSync(lock, `${gone}\n`);
      const taken = await run.walmgr([masterIni, 'backup', '--label', 'fourth']);
      expect(taken.stderr).toContain(`removing a stale backup lock of pid ${gone}`);
      expect(taken.code).toBe(0);
      expect(existsSync(lock)).toBe(false);
    },
    slow,
  );
  test(
    'an unwritable archive fails archive_command; the server retries and loses no segment',
    async () => {
      const archive = path.join(run.dir, 'walshipping', 'logs.complete');
      const owner = statSync(archive);
      const before = Number(
        (await client.query('select failed_count from pg_stat_archiver')).rows[0].failed_count,
      );
      if (process.getuid?.() === 0)
        chownSync(archive, 0, 0); // the server's user may no longer write
      else chmodSync(archive, 0o555);
      try {
        await client.query("insert into t select g, 'D' from generate_series(311, 320) g");
        const { rows } = await client.query('select pg_walfile_name(pg_switch_wal()) as wal');
        const wal = rows[0].wal as string;
        await until(
          'archive_command to fail',
          async () =>
            Number(
              (await client.query('select failed_count from pg_stat_archiver')).rows[0]
                .failed_count,
            ),
          (failed) => failed > before,
        );
        expect(existsSync(path.join(archive, wal))).toBe(false);
        if (process.getuid?.() === 0) chownSync(archive, owner.uid, owner.gid);
        else chmodSync(archive, 0o700);
        await until(
          `${wal} archived after the archive came back`,
          async () =>
            (await client.query('select last_archived_wal as w from pg_stat_archiver')).rows[0].w,
          (last) => last !== null && last >= wal,
        );
        const sum = readFileSync(path.join(archive, `${wal}.sha256`), 'utf8').split(' ')[0];
        expect(sum).toBe(
          createHash('sha256')
            .update(readFileSync(path.join(archive, wal)))
            .digest('hex'),
        );
      } finally {
        chownSync(archive, owner.uid, owner.gid);
        chmodSync(archive, owner.mode & 0o777);
      }
    },
    slow,
  );

  test(
    'a backup killed half-way is never listed, and the next one clears it up',
    async () => {
      const parent = path.join(run.dir, 'walshipping');
      const listedBefore = (await run.walmgr([masterIni, 'listbackups'])).stdout;
      const child = spawn(process.execPath, [walmgrBin, masterIni, 'backup', '--label', 'killed'], {
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await until(
        'the backup to start copying',
        async () => existsSync(path.join(parent, 'data.master.incoming', 'PG_VERSION')),
        (copying) => copying,
        120_000,
      );
      child.kill('SIGKILL');
      await exited;
      const listed = await run.walmgr([masterIni, 'listbackups']);
      expect(listed.stdout).toBe(listedBefore);
      expect(listed.stdout).not.toContain('killed');
      const next = await run.walmgr([masterIni, 'backup', '--label', 'after the kill']);
      expect(next.stderr).toContain(`removing a stale backup lock of pid ${child.pid}`);
      expect(next.stderr).toContain(
        `removing ${path.join(parent, 'data.master.incoming')}, left by a backup that did not finish`,
      );
      expect(next.code).toBe(0);
      expect(existsSync(path.join(parent, 'data.master.incoming'))).toBe(false);
      expect((await run.walmgr([masterIni, 'listbackups'])).stdout).toMatch(
        /^data\.master\t.*\tafter the kill\t/m,
      );
    },
    slow,
  );

  test(
    'restore checks every file against the manifest and names a damaged one; -n changes nothing',
    async () => {
      const set = path.join(run.dir, 'walshipping', 'data.master.0');
      const target = path.join(run.dir, 'check', 'data');
      const dry = await run.walmgr(['-n', slaveIni, 'restore', 'data.master.0', target]);
      expect(dry.code).toBe(0);
      expect(dry.stderr).toContain(`would restore ${set} into ${target}`);
      expect(existsSync(target)).toBe(false);
      writeFileSync(path.join(set, 'PG_VERSION'), '99\n');
      const damaged = await run.walmgr([slaveIni, 'restore', 'data.master.0', target]);
      expect(damaged.code).toBe(1);
      expect(existsSync(target)).toBe(false);
      expect(damaged.stderr).toMatch(
        new RegExp(
          `backup ${set} is damaged: PG_VERSION has sha256 [0-9a-f]{16}\\.\\.\\., the manifest says`,
        ),
      );
      const dryBackup = await run.walmgr(['-n', masterIni, 'backup']);
      expect(dryBackup.code).toBe(0);
      expect(dryBackup.stderr).toContain('would back up');
    },
    slow,
  );
  test(
    'drill: a good backup passes with its row counts; a damaged archived segment fails, named',
    async () => {
      await switchAndWaitArchived(client);
      const { rows } = await client.query('select count(*)::int as n from t');
      const good = await run.walmgr([masterIni, 'drill', '--check-table', 'public.t']);
      expect(good.stdout).toContain(`table public.t: ${rows[0].n} rows`);
      expect(good.stdout).toMatch(
        /^amcheck: (\d+ indexes checked|not installed on this server, skipped)$/m,
      );
      expect(good.stdout).toContain('drill: the backup is good');
      expect(good.code).toBe(0);
      expect(readdirSync(os.tmpdir()).filter((name) => name.startsWith('walmgr-drill-'))).toEqual(
        [],
      );

      const list = await run.walmgr([masterIni, 'listbackups']);
      const firstWal = list.stdout.split('\n')[1]?.split('\t')[3] as string;
      const segment = path.join(run.dir, 'walshipping', 'logs.complete', firstWal);
      const bytes = readFileSync(segment);
      bytes[bytes.length - 100] = (bytes[bytes.length - 100] as number) ^ 0xff;
      writeFileSync(segment, bytes);
      const bad = await run.walmgr([masterIni, 'drill']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(`PROBLEM: ${segment} is damaged: sha256`);
      expect(bad.stdout).toContain('drill: the backup is NOT good');
    },
    slow,
  );
});
