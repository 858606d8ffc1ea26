/**
 * `createslave` on the slave: a streaming standby from scratch (spec §7.1). A base backup of
 * the master into `full_backup`, taken by walmgr's own backup when the INI names `master_data`
 * (the master's data directory is readable here: no client programs needed), else by
 * `pg_basebackup` of the master's major version over `primary_conninfo`; then `restore` as a
 * standby (`standby.signal`, `primary_conninfo`, `restore_command`), `slave_start_cmd`, and a
 * wait until the master shows the standby streaming. Upstream also ran `pg_receivexlog` into
 * the archive; here the standby streams and the master's own archive_command feeds the archive.
 */
import path from 'node:path';
import type pg from 'pg';
import { openClient } from '../db/connect.js';
import { takeBackup } from './backup.js';
import { backupWithClient } from './basebackup-client.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { ownerFrom } from './ownership.js';
import { clientProgram } from './pg-programs.js';
import { needSlaveData, type RestoreResult, restoreBackup } from './restore.js';
import type { WalmgrSettings } from './settings.js';

export interface CreateSlaveOptions {
  notReally?: boolean;
  label?: string;
  /** Longest wait for the standby to stream, seconds (default 300). */
  timeoutSeconds?: number;
}

export interface CreateSlaveResult {
  restore: RestoreResult | null;
  method: 'walmgr backup' | 'pg_basebackup';
  /** `application_name` of the streaming standby, when slave_start_cmd started it. */
  streaming: string | null;
}

/** primary_conninfo as a session for SQL: its own dbname, else `postgres`. */
export function sqlConninfo(conninfo: string): string {
  if (/^postgres(ql)?:\/\//.test(conninfo) || /(^|\s)dbname\s*=/.test(conninfo)) return conninfo;
  return `${conninfo} dbname=postgres`;
}

export async function createSlave(
  settings: WalmgrSettings,
  log: WalmgrLog,
  options: CreateSlaveOptions = {},
): Promise<CreateSlaveResult> {
  const slaveData = needSlaveData(settings);
  const conninfo = settings.primaryConninfo;
  if (conninfo === undefined) {
    throw new WalmgrError(
      'BAD_SETTINGS',
      `createslave needs primary_conninfo in ${settings.file}: the standby streams from the master`,
      { file: settings.file },
    );
  }
  const label = options.label ?? `walmgr createslave ${new Date().toISOString()}`;
  const client = await openClient(sqlConninfo(conninfo), {
    applicationName: 'walmgr createslave',
    purpose: 'primary_conninfo',
  });
  let method: CreateSlaveResult['method'] = 'walmgr backup';
  let before: Set<number>;
  try {
    before = await walSenders(client);
    const major = Math.floor(
      Number(
        (await client.query<{ v: string }>("select current_setting('server_version_num') as v"))
          .rows[0]?.v,
      ) / 10000,
    );
    const program =
      settings.masterData === undefined ? clientProgram(settings, major, 'pg_basebackup') : null;
    if (settings.masterData === undefined && program === null) {
      throw new WalmgrError(
        'NO_CLIENT_PROGRAMS',
        `createslave needs pg_basebackup of PostgreSQL ${major} (slave_bin, SKYTOOLS_PG_BIN, /usr/lib/postgresql/${major}/bin) or master_data (the master's data directory, readable here)`,
        { major },
      );
    }
    if (program !== null) method = 'pg_basebackup';
    if (options.notReally) {
      log.info(
        `would take a base backup (${method}) and restore it into ${slaveData} as a standby`,
      );
      return { restore: null, method, streaming: null };
    }
    if (program === null) {
      await takeBackup(settings, log, { label });
    } else {
      const owner = ownerFrom(path.dirname(slaveData), settings.walmgrData);
      await backupWithClient(settings, client, program, owner, log, label);
    }
  } finally {
    await client.end();
  }
  const restore = await restoreBackup(settings, log, {});
  if (settings.slaveStartCmd === undefined) {
    log.info(`start the server on ${slaveData}: it will stream from the master`);
    return { restore, method, streaming: null };
  }
  const streaming = await waitStreaming(conninfo, before, options.timeoutSeconds ?? 300);
  log.info(`the standby on ${slaveData} streams from the master (application_name ${streaming})`);
  return { restore, method, streaming };
}

async function walSenders(client: pg.Client): Promise<Set<number>> {
  const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_replication');
  return new Set(rows.map((row) => row.pid));
}

/** A WAL sender that was not there before the restore, streaming. */
async function waitStreaming(
  conninfo: string,
  before: Set<number>,
  timeoutSeconds: number,
): Promise<string> {
  const client = await openClient(sqlConninfo(conninfo), {
    applicationName: 'walmgr createslave',
    purpose: 'primary_conninfo',
  });
  try {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
      const { rows } = await client.query<{ pid: number; name: string; state: string }>(
        'select pid, application_name as name, state from pg_stat_replication',
      );
      const fresh = rows.find((row) => !before.has(row.pid) && row.state === 'streaming');
      if (fresh !== undefined) return fresh.name;
      if (Date.now() > deadline) {
        throw new WalmgrError(
          'NOT_STREAMING',
          `the standby did not stream from the master within ${timeoutSeconds} s (see its server log)`,
          {},
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await client.end();
  }
}
