import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { quoteLiteral } from '../../src/db/quote.js';
import { Cluster } from '../../src/pg/index.js';
import { aheadArchiveCommand } from '../../src/walmgr/archive-ahead.js';
import { walmgrBin, walmgrCommand } from '../../src/walmgr/commands-path.js';
import { loadWalmgrSettings } from '../../src/walmgr/settings.js';
import { comparePair, type WorkloadResult } from '../lib/compare.js';
import { type BenchContext, benchSettings } from '../lib/context.js';

// walmgr on a cluster of its own (archive_mode needs a start with it on), as the server's OS
// user would run it: the server runs xarchive once per segment through archive_command, and
// `walmgr backup` / `restore` run as commands, Node's start-up included.
//
// walmgr-archive: N segments switched in a row (one row written before each switch), timed
// from the first switch until pg_stat_archiver shows the last one archived; ours is walmgr's
// fast way, `archive_ahead = yes` with the `archive-ahead` daemon running (durable copy,
// sha256 recorded, directory fsynced; archive_command only confirms), the baseline
// `cp %p DIR/%f && sync DIR/%f`, each into an empty directory. `xarchive_only` is one sample
// of plain `walmgr xarchive %p %f` (a Node start per segment), for reference.
//
// walmgr-backup: a base backup of a cluster holding about 2 GB (quick: 200 MB) of table data,
// in MB/s of the data directory; ours is `walmgr backup` (SQL backup API, sha256 of every file),
// the baseline `pg_basebackup -Fp -c fast` of the server's major version where the client
// programs exist (else baseline_missing). The restore of the newest set into a new directory
// (every file checked against the manifest) is timed once after the samples.

interface Setup {
  dir: string;
  cluster: Cluster;
  client: pg.Client;
  owner: { uid: number; gid: number };
  ini: string;
}

async function setUp(prefix: string, ctx: BenchContext): Promise<Setup> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `skytools-bench-${prefix}-`));
  chmodSync(dir, 0o755);
  ctx.log(`  starting a cluster with archive_mode = on in ${dir}`);
  const cluster = await Cluster.temporary({
    fsync: true,
    settings: { ...benchSettings, archive_mode: 'on', archive_command: "'/bin/true'" },
  });
  const { uid, gid } = statSync(cluster.paths.dataDir);
  const ini = path.join(dir, 'wal.ini');
  writeFileSync(
    ini,
    [
      '[walmgr]',
      'job_name = bench',
      `walmgr_data = ${path.join(dir, 'walshipping')}`,
      `master_data = ${cluster.paths.dataDir}`,
      `master_db = host=127.0.0.1 port=${cluster.port} dbname=postgres user=postgres`,
      `slave_data = ${path.join(dir, 'restored', 'data')}`,
      'archive_ahead = yes',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const client = new pg.Client(cluster.connectionConfig());
  await client.connect();
  return { dir, cluster, client, owner: { uid, gid }, ini };
}

async function tearDown(setup: Setup): Promise<void> {
  await setup.client.end();
  await setup.cluster.stop({ mode: 'immediate' });
  rmSync(setup.dir, { recursive: true, force: true });
}

function freshDir(dir: string, owner: { uid: number; gid: number }): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  if (process.getuid?.() === 0) chownSync(dir, owner.uid, owner.gid);
}

async function setArchiveCommand(client: pg.Client, command: string): Promise<void> {
  await client.query(`alter system set archive_command = ${quoteLiteral(command)}`);
  await client.query('select pg_reload_conf()');
  for (;;) {
    const { rows } = await client.query<{ v: string }>(
      "select current_setting('archive_command') as v",
    );
    if (rows[0]?.v === command) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitArchived(client: pg.Client, wal: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { rows } = await client.query<{ last: string | null }>(
      'select last_archived_wal as last from pg_stat_archiver',
    );
    const last = rows[0]?.last;
    if (last !== null && last !== undefined && last >= wal) return;
    if (Date.now() > deadline) throw new Error(`bench walmgr-archive: ${wal} never archived`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function walmgrArchive(ctx: BenchContext): Promise<WorkloadResult> {
  const segments = ctx.quick ? 20 : 200;
  const setup = await setUp('archive', ctx);
  const { client, dir, owner } = setup;
  try {
    await client.query('create table switch_marks (n int)');
    const ours = path.join(dir, 'walshipping', 'logs.complete');
    const plain = path.join(dir, 'plain');
    const sample = async (command: string): Promise<number> => {
      await setArchiveCommand(client, command);
      const started = process.hrtime.bigint();
      let last = '';
      for (let i = 0; i < segments; i++) {
        await client.query('insert into switch_marks values ($1)', [i]);
        const { rows } = await client.query<{ wal: string }>(
          'select pg_walfile_name(pg_switch_wal()) as wal',
        );
        last = rows[0]?.wal as string;
      }
      await waitArchived(client, last);
      return segments / (Number(process.hrtime.bigint() - started) / 1e9);
    };
    const settings = loadWalmgrSettings(setup.ini);
    const withDaemon = async (): Promise<number> => {
      const daemon = await startAhead(setup.ini);
      try {
        return await sample(aheadArchiveCommand(settings));
      } finally {
        await stopChild(daemon);
      }
    };
    const result = await comparePair({
      repeat: ctx.repeat,
      unit: 'segments/s',
      reset: async () => {
        freshDir(ours, owner);
        freshDir(plain, owner);
      },
      workload: withDaemon,
      baseline: () => sample(`cp %p ${plain}/%f && sync ${plain}/%f`),
      log: ctx.log,
    });
    freshDir(ours, owner);
    const xarchiveOnly = await sample(`${walmgrCommand(setup.ini)} xarchive %p %f`);
    ctx.log(`  plain xarchive (no daemon): ${xarchiveOnly.toFixed(2)} segments/s`);
    return {
      ...result,
      segments,
      xarchive_only: Math.round(xarchiveOnly * 100) / 100,
      xarchive_only_ratio: Math.round((xarchiveOnly / Number(result.baseline)) * 1000) / 1000,
    };
  } finally {
    await tearDown(setup);
  }
}

/** The archive-ahead daemon, once it says it watches. */
function startAhead(ini: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [walmgrBin, ini, 'archive-ahead'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('archive-ahead: archiving')) resolve(child);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`archive-ahead exited (${code}): ${stderr}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function timed(program: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${path.basename(program)} ${args.join(' ')} failed: ${stderr.trim()}`));
        return;
      }
      resolve(Number(process.hrtime.bigint() - started) / 1e9);
    });
  });
}

function treeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    // The server renames and removes files meanwhile (archive_status, pg_wal).
    if (entry.isFile()) {
      total +=
        statSync(path.join(entry.parentPath, entry.name), { throwIfNoEntry: false })?.size ?? 0;
    }
  }
  return total;
}

/** pg_basebackup of `major`, or '' where the client programs are missing. */
function pgBasebackup(major: number): string {
  const dirs = [process.env.SKYTOOLS_PG_BIN, `/usr/lib/postgresql/${major}/bin`];
  for (const dir of dirs) {
    if (dir && existsSync(path.join(dir, 'pg_basebackup'))) return path.join(dir, 'pg_basebackup');
  }
  return '';
}

export async function walmgrBackup(ctx: BenchContext): Promise<WorkloadResult> {
  const megabytes = ctx.quick ? 200 : 2048;
  const setup = await setUp('backup', ctx);
  const { client, dir, cluster } = setup;
  try {
    await setArchiveCommand(client, `${walmgrCommand(setup.ini)} xarchive %p %f`);
    freshDir(path.join(dir, 'walshipping'), setup.owner);
    ctx.log(`  filling ${megabytes} MB`);
    await client.query('create table big (id int, filler text)');
    const rows = Math.round((megabytes * 1024 * 1024) / 1100);
    for (let from = 1; from <= rows; from += 200_000) {
      await client.query(
        'insert into big select g, repeat(md5(g::text), 31) from generate_series($1::int, $2::int) g',
        [from, Math.min(rows, from + 199_999)],
      );
    }
    await client.query('checkpoint');
    const dataMb = treeBytes(cluster.paths.dataDir) / 1024 / 1024;
    const major =
      Number(
        (await client.query<{ v: string }>("select current_setting('server_version_num') as v"))
          .rows[0]?.v,
      ) / 10000;
    const program = pgBasebackup(Math.floor(major));
    const copy = path.join(dir, 'pg_basebackup');
    const ours = () =>
      timed(process.execPath, [walmgrBin, '-q', setup.ini, 'backup']).then((s) => dataMb / s);
    // Both sides start without an earlier copy: ours would otherwise delete the last set
    // (keep_backups = 0) inside its timing.
    const reset = async () => {
      rmSync(copy, { recursive: true, force: true });
      for (const name of readdirSync(path.join(dir, 'walshipping'))) {
        if (name.startsWith('data.master')) {
          rmSync(path.join(dir, 'walshipping', name), { recursive: true, force: true });
        }
      }
    };
    let result: WorkloadResult;
    if (program === '') {
      const samples: number[] = [];
      await ours();
      for (let i = 0; i < ctx.repeat; i++) {
        await reset();
        samples.push(await ours());
        ctx.log(`  sample ${i + 1}/${ctx.repeat}: ${samples.at(-1)?.toFixed(1)} MB/s`);
      }
      samples.sort((a, b) => a - b);
      result = {
        value: Math.round((samples[Math.floor(samples.length / 2)] as number) * 10) / 10,
        min: Math.round((samples[0] as number) * 10) / 10,
        max: Math.round((samples.at(-1) as number) * 10) / 10,
        unit: 'MB/s',
        samples: ctx.repeat,
        baseline_missing: `no pg_basebackup of PostgreSQL ${Math.floor(major)} (SKYTOOLS_PG_BIN, /usr/lib/postgresql/N/bin)`,
      };
    } else {
      result = await comparePair({
        repeat: ctx.repeat,
        unit: 'MB/s',
        reset,
        workload: ours,
        baseline: async () => {
          const seconds = await timed(program, [
            ...['-D', copy, '-Fp', '-c', 'fast', '-h', '127.0.0.1'],
            ...['-p', String(cluster.port), '-U', 'postgres', '--no-password'],
          ]);
          return dataMb / seconds;
        },
        log: ctx.log,
      });
    }
    await reset();
    await ours();
    const restoreSeconds = await timed(process.execPath, [walmgrBin, '-q', setup.ini, 'restore']);
    ctx.log(`  restore of the newest set: ${restoreSeconds.toFixed(1)} s`);
    return {
      ...result,
      data_mb: Math.round(dataMb),
      restore_s: Math.round(restoreSeconds * 10) / 10,
      restore_mb_s: Math.round((dataMb / restoreSeconds) * 10) / 10,
    };
  } finally {
    await tearDown(setup);
  }
}
