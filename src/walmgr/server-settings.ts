/**
 * `setup` and `stop` on the master: archiving switched on and off through `ALTER SYSTEM`
 * (PostgreSQL >= 9.4; upstream edited postgresql.conf), then a reload, or `master_restart_cmd`
 * when a changed setting needs a restart. `setup` also makes the archive's directories, owned
 * by the data directory's owner, and checks that this user can run the command it writes.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { quoteLiteral } from '../db/quote.js';
import { aheadArchiveCommand } from './archive-ahead.js';
import { walmgrBin, walmgrCommand } from './commands-path.js';
import { WalmgrError } from './errors.js';
import type { WalmgrLog } from './log.js';
import { openMaster } from './master-session.js';
import { chownFile, makeDirs, type Owner, ownerFrom } from './ownership.js';
import type { WalmgrSettings } from './settings.js';

export interface ServerChangeResult {
  /** Settings changed, as `name = value`. */
  changed: string[];
  /** Settings that wait for a restart (`pending_restart` after the reload). */
  pendingRestart: string[];
  restarted: boolean;
}

/** The archive_command `setup` writes. */
export function archiveCommandFor(settings: WalmgrSettings, nodeBin?: string): string {
  // archive-ahead archives into a local directory: a remote archive gets plain xarchive.
  if (settings.archiveAhead && settings.remote === undefined)
    return aheadArchiveCommand(settings, nodeBin);
  return `${walmgrCommand(settings.file, nodeBin)} xarchive %p %f`;
}

export async function setupMaster(
  settings: WalmgrSettings,
  log: WalmgrLog,
  notReally = false,
): Promise<ServerChangeResult> {
  const masterData = needMaster(settings, 'setup');
  const owner = ownerFrom(masterData);
  if (settings.remote !== undefined) {
    // Those paths are the slave's: its walmgr makes what it writes into.
    log.info(`the archive is on ${settings.remote.host}: no local directories to make`);
  } else {
    for (const dir of [settings.completedWals, settings.partialWals, settings.configBackup]) {
      log.info(`${notReally ? 'would create' : 'creating'} ${dir}`);
      if (!notReally) makeDirs(dir, owner);
    }
    if (!notReally) makeDirs(path.dirname(settings.fullBackup), owner);
  }
  // The server appends to the logfile from xarchive: it must be able to open it.
  if (!notReally && settings.logfile !== undefined && owner !== null) {
    makeDirs(path.dirname(settings.logfile), owner);
    appendFileSync(settings.logfile, '');
    chownFile(settings.logfile, owner);
  }
  checkRunnableBy(owner, log);
  const wanted: Record<string, string> = {
    archive_mode: 'on',
    archive_command: archiveCommandFor(settings),
  };
  return changeServer(settings, log, notReally, async (client) => {
    const level = await setting(client, 'wal_level');
    if (level === 'minimal') wanted.wal_level = 'replica';
    return wanted;
  });
}

export async function stopMaster(
  settings: WalmgrSettings,
  log: WalmgrLog,
  notReally = false,
): Promise<ServerChangeResult> {
  needMaster(settings, 'stop');
  // Without a restart, archive_mode stays on: a command that succeeds keeps pg_wal from
  // filling up, as upstream's /bin/true did.
  const wanted: Record<string, string> =
    settings.masterRestartCmd === undefined
      ? { archive_command: '/bin/true', synchronous_standby_names: '' }
      : { archive_mode: 'off', archive_command: '', synchronous_standby_names: '' };
  return changeServer(settings, log, notReally, async () => wanted);
}

/** What changing the server needs of the settings (`--synch-standby` has no INI). */
export type ServerAccess = { masterDb: string | undefined } & Pick<
  WalmgrSettings,
  'masterRestartCmd'
>;

async function changeServer(
  settings: ServerAccess,
  log: WalmgrLog,
  notReally: boolean,
  decide: (client: pg.Client) => Promise<Record<string, string>>,
): Promise<ServerChangeResult> {
  const client = await openMaster(settings.masterDb);
  const changed: string[] = [];
  let pendingRestart: string[] = [];
  try {
    const wanted = await decide(client);
    for (const [name, value] of Object.entries(wanted)) {
      if ((await setting(client, name)) === value) continue;
      changed.push(`${name} = ${value}`);
      log.info(`${notReally ? 'would set' : 'setting'} ${name} = ${quoteLiteral(value)}`);
      if (!notReally) await client.query(`alter system set ${name} = ${quoteLiteral(value)}`);
    }
    if (notReally || changed.length === 0) return { changed, pendingRestart, restarted: false };
    await client.query('select pg_reload_conf()');
    pendingRestart = await waitPending(client, wanted);
  } finally {
    await client.end();
  }
  if (pendingRestart.length === 0) return { changed, pendingRestart, restarted: false };
  if (settings.masterRestartCmd === undefined) {
    log.warning(
      `restart the server for ${pendingRestart.join(', ')} to take effect (no master_restart_cmd is set)`,
    );
    return { changed, pendingRestart, restarted: false };
  }
  log.info(`restarting the server: ${settings.masterRestartCmd}`);
  const run = spawnSync('/bin/sh', ['-c', settings.masterRestartCmd], { stdio: 'inherit' });
  if (run.status !== 0) {
    throw new WalmgrError(
      'COMMAND_FAILED',
      `master_restart_cmd failed (exit ${run.status ?? run.signal}): ${settings.masterRestartCmd}`,
      { command: settings.masterRestartCmd },
    );
  }
  return { changed, pendingRestart, restarted: true };
}

async function setting(client: pg.Client, name: string): Promise<string> {
  const { rows } = await client.query<{ v: string }>('select current_setting($1) as v', [name]);
  return rows[0]?.v ?? '';
}

/** Settings of `wanted` that need a restart, once every backend has read the reload. */
async function waitPending(client: pg.Client, wanted: Record<string, string>): Promise<string[]> {
  // pg_reload_conf() only signals the postmaster: wait until each setting either shows its new
  // value or is marked pending_restart.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await client.query<{ name: string; setting: string; pending: boolean }>(
      'select name, current_setting(name) as setting, pending_restart as pending from pg_settings where name = any($1)',
      [Object.keys(wanted)],
    );
    const pending = rows.filter((row) => row.pending).map((row) => row.name);
    // A reloaded file marks restart-only settings at once; archive_command then still reads
    // "(disabled)" while archive_mode is off.
    const settled = pending.length > 0 || rows.every((row) => row.setting === wanted[row.name]);
    if (settled || Date.now() > deadline) return pending;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function needMaster(settings: WalmgrSettings, command: string): string {
  if (settings.masterData === undefined) {
    throw new WalmgrError(
      'WRONG_ROLE',
      `${command} needs a master config (with master_data); ${settings.file} has none`,
      { file: settings.file },
    );
  }
  return settings.masterData;
}

/** The server runs archive_command as the data directory's owner: it must reach node and our bin. */
function checkRunnableBy(owner: Owner | null, log: WalmgrLog): void {
  accessSync(walmgrBin, constants.R_OK);
  if (owner === null) return;
  const run = spawnSync(process.execPath, [walmgrBin, '--version'], {
    uid: owner.uid,
    gid: owner.gid,
    cwd: '/',
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    throw new WalmgrError(
      'COMMAND_FAILED',
      `the server's OS user (uid ${owner.uid}) cannot run ${process.execPath} ${walmgrBin}: ${(run.stderr || run.error?.message || '').trim().split('\n')[0]}; install the package where that user can read it`,
      { bin: walmgrBin, uid: owner.uid },
    );
  }
  log.debug(`the server's OS user can run ${walmgrBin}`);
}

/**
 * `synch-standby NAMES` on the master: `synchronous_standby_names` through ALTER SYSTEM and a
 * reload. As upstream, a list none of whose standbys is connected is refused (every commit
 * would wait for it); `''` turns synchronous replication off, `*` needs one connected standby.
 */
export async function synchStandby(
  settings: ServerAccess,
  log: WalmgrLog,
  names: string,
  notReally = false,
): Promise<ServerChangeResult> {
  return changeServer(settings, log, notReally, async (client) => {
    if (names.trim() === '') return { synchronous_standby_names: '' };
    const { rows } = await client.query<{ name: string }>(
      "select application_name as name from pg_stat_replication where state = 'streaming'",
    );
    const connected = rows.map((row) => row.name);
    const wanted = standbyNames(names);
    const found = wanted.includes('*')
      ? connected.length > 0
      : wanted.some((name) => connected.includes(name));
    if (!found) {
      throw new WalmgrError(
        'STANDBY_NOT_CONNECTED',
        `none of the standbys "${names}" is streaming from the master (streaming: ${connected.join(', ') || 'none'}); every commit would wait for one`,
        { names, connected },
      );
    }
    return { synchronous_standby_names: names };
  });
}

/** The standby names of a `synchronous_standby_names` value (`FIRST 1 (a, "b")`, `a, b`, `*`). */
export function standbyNames(value: string): string[] {
  const inner = /^\s*(?:(?:first|any)\s+)?\d+\s*\((.*)\)\s*$/i.exec(value)?.[1] ?? value;
  return inner
    .split(',')
    .map((name) => name.trim())
    .map((name) => (name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name))
    .filter((name) => name !== '');
}
