/**
 * `drill` (ours): prove that the newest backup restores. Check the archive it needs against the
 * recorded checksums, restore the set into a scratch directory, start a throwaway server on it
 * (the backup's owner as OS user, a free 127.0.0.1 port, `archive_mode = off` so it never
 * archives into the real archive), let it recover to the end of the archive (or a target) and
 * promote, run checks (row counts of chosen tables, amcheck where installed), stop it and
 * remove the scratch directory. The result says whether the backup is good.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { openClient } from '../db/connect.js';
import { quoteIdent } from '../db/quote.js';
import { binariesFor } from '../pg/binaries.js';
import { accountName, type OsAccount } from '../pg/os-user.js';
import { findFreePort } from '../pg/ports.js';
import { runAs } from '../pg/run-as.js';
import { checkArchive } from './archive-check.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { ownerFrom } from './ownership.js';
import { binariesForMajor } from './pg-programs.js';
import type { RecoveryTarget } from './recovery-settings.js';
import { findSet, restoreBackup } from './restore.js';
import type { WalmgrSettings } from './settings.js';

export interface DrillOptions {
  set?: string;
  target?: RecoveryTarget;
  /** `schema.table` names whose rows are counted in the recovered server. */
  checkTables?: string[];
  /** Database the checks run in (default: master_db's dbname, else postgres). */
  database?: string;
  /** Keep the scratch directory (for a look after a failure). */
  keep?: boolean;
  /** Longest wait for recovery, seconds (default 600). */
  timeoutSeconds?: number;
}

export interface DrillReport {
  ok: boolean;
  set: string;
  lines: string[];
  problems: string[];
}

export async function drill(
  settings: WalmgrSettings,
  log: WalmgrLog,
  options: DrillOptions = {},
): Promise<DrillReport> {
  const set = findSet(settings, options.set);
  const lines: string[] = [
    `backup ${set.dir} (label "${set.manifest.label}", ${set.manifest.startTime})`,
  ];
  const archive = checkArchive(settings.completedWals, set);
  lines.push(
    `archive: ${archive.checked} files checked, newest segment ${archive.newest ?? 'none'}`,
  );
  if (archive.problems.length > 0) {
    return { ok: false, set: set.dir, lines, problems: archive.problems };
  }
  const major = Number(readFileSync(path.join(set.dir, 'PG_VERSION'), 'utf8').trim());
  const bins = await binariesForMajor(settings, major);
  lines.push(`server binaries: PostgreSQL ${bins.version} in ${bins.dir}`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'walmgr-drill-'));
  chmodSync(scratch, 0o755);
  const dataDir = path.join(scratch, 'data');
  const owner = ownerFrom(set.dir);
  const account: OsAccount | null =
    owner === null ? null : { name: accountName(owner.uid), uid: owner.uid, gid: owner.gid };
  const runner = account === null ? null : binariesFor(bins, account);
  // The server writes its log here, as the backup's owner.
  if (owner !== null) chownSync(scratch, owner.uid, owner.gid);
  const problems: string[] = [];
  let started = false;
  try {
    await restoreBackup(
      {
        ...settings,
        slaveStartCmd: undefined,
        slaveStopCmd: undefined,
        primaryConninfo: undefined,
      },
      quiet(log),
      {
        set: set.dir,
        destination: dataDir,
        recoveryOnly: true,
        leaveControlFiles: true,
        ...(options.target ? { target: options.target } : {}),
      },
    );
    const port = await findFreePort();
    const logFile = path.join(scratch, 'server.log');
    const startArgs = [
      'start',
      '-D',
      dataDir,
      '-l',
      logFile,
      '-w',
      '-t',
      String(options.timeoutSeconds ?? 600),
    ];
    const serverOptions = [
      `-c port=${port}`,
      '-c listen_addresses=127.0.0.1',
      "-c unix_socket_directories=''",
      '-c archive_mode=off',
      '-c hot_standby=on',
    ].join(' ');
    const start = await runAs(
      account,
      path.join((runner ?? bins).dir, 'pg_ctl'),
      [...startArgs, '-o', serverOptions],
      scratch,
    );
    started = true;
    if (start.code !== 0) {
      const reason = existsSync(logFile)
        ? lastLines(logFile)
        : (start.stderr || start.stdout).trim();
      problems.push(`the restored server did not start or finish recovery: ${reason}`);
      return { ok: false, set: set.dir, lines, problems };
    }
    const database = options.database ?? dbnameOf(settings.masterDb);
    const client = await openClient(
      { host: '127.0.0.1', port, user: 'postgres', database },
      { applicationName: 'walmgr drill', purpose: 'the restored server' },
    );
    try {
      await waitPromoted(client, options.timeoutSeconds ?? 600);
      const { rows } = await client.query<{ lsn: string }>(
        'select pg_current_wal_lsn()::text as lsn',
      );
      lines.push(`recovered and promoted at ${rows[0]?.lsn}`);
      for (const table of options.checkTables ?? []) {
        const [schema, name] = table.includes('.') ? table.split('.', 2) : ['public', table];
        try {
          const count = await client.query<{ n: string }>(
            `select count(*) as n from ${quoteIdent(schema as string)}.${quoteIdent(name as string)}`,
          );
          lines.push(`table ${table}: ${count.rows[0]?.n} rows`);
        } catch (error) {
          problems.push(`table ${table}: ${(error as Error).message}`);
        }
      }
      lines.push(...(await amcheck(client, problems)));
    } finally {
      await client.end();
    }
  } finally {
    if (started) {
      await runAs(
        account,
        path.join((runner ?? bins).dir, 'pg_ctl'),
        ['stop', '-D', dataDir, '-m', 'immediate', '-w'],
        scratch,
      );
    }
    if (options.keep) lines.push(`scratch directory kept: ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  return { ok: problems.length === 0, set: set.dir, lines, problems };
}

/** B-tree indexes checked with amcheck when the server has it; its absence is only noted. */
async function amcheck(client: pg.Client, problems: string[]): Promise<string[]> {
  const available = await client.query(
    "select 1 from pg_available_extensions where name = 'amcheck'",
  );
  if (available.rowCount === 0) return ['amcheck: not installed on this server, skipped'];
  await client.query('create extension if not exists amcheck');
  const { rows } = await client.query<{ index: string }>(
    `select c.oid::regclass::text as index
       from pg_index i join pg_class c on c.oid = i.indexrelid
       join pg_am a on a.oid = c.relam join pg_namespace n on n.oid = c.relnamespace
      where a.amname = 'btree' and c.relpersistence <> 't' and i.indisvalid
        and n.nspname not in ('pg_catalog', 'information_schema')`,
  );
  for (const row of rows) {
    try {
      await client.query('select bt_index_check($1::regclass)', [row.index]);
    } catch (error) {
      problems.push(`amcheck: index ${row.index}: ${(error as Error).message}`);
    }
  }
  return [`amcheck: ${rows.length} indexes checked`];
}

async function waitPromoted(client: pg.Client, timeoutSeconds: number): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const { rows } = await client.query<{ r: boolean }>('select pg_is_in_recovery() as r');
    if (rows[0]?.r === false) return;
    if (Date.now() > deadline) {
      throw new WalmgrError(
        'RESTORE_FAILED',
        `the restored server was still in recovery after ${timeoutSeconds} s`,
        {},
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export function dbnameOf(connstring: string): string {
  const match = /(?:^|\s)dbname\s*=\s*'?([^'\s]+)/.exec(connstring);
  if (match) return match[1] as string;
  const url = /^postgres(?:ql)?:\/\/[^/]*\/([^?]+)/.exec(connstring);
  return url ? decodeURIComponent(url[1] as string) : 'postgres';
}

function lastLines(file: string): string {
  if (!existsSync(file)) return 'no server log';
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const fatal = lines.filter((line) => /FATAL|PANIC/.test(line));
  return (fatal.length > 0 ? fatal.slice(-2) : lines.slice(-2)).join(' / ');
}

function quiet(log: WalmgrLog): WalmgrLog {
  return { ...log, info: (message) => log.debug(message) };
}
