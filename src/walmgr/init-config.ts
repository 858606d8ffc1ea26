/**
 * `walmgr --init-master` and `walmgr --init-slave` (spec §7.1): write a first `wal-master.ini`
 * or `wal-slave.ini` from what can be guessed here (the data directory from `--pgdata` or
 * `$PGDATA`, the master's port and socket from its `postmaster.pid`, `pg_ctl` of the data
 * directory's version). Upstream's ssh key handling (`--ssh-keygen`, `--ssh-add-key`) and
 * `.pgpass` editing (`--add-password`) go with the remote slaves, which are not there yet.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WalmgrError } from './errors.js';

export interface InitOptions {
  role: 'master' | 'slave';
  /** The data directory (master_data / slave_data); default `$PGDATA`. */
  pgdata?: string;
  /** Where the INI goes; default `~/conf`. */
  configDir?: string;
  /** `slave = HOST`; only this machine's archive paths are written. */
  slave?: string;
  primaryConninfo?: string;
  walmgrData?: string;
  /** Refused with one line each (remote slaves are not there yet). */
  unsupported?: string[];
}

export function initConfig(options: InitOptions): { file: string; text: string } {
  if (options.unsupported !== undefined && options.unsupported.length > 0) {
    throw new WalmgrError(
      'USAGE',
      `${options.unsupported.join(', ')}: ssh keys and passwords are for remote slaves, which this walmgr does not support yet`,
      {},
    );
  }
  const pgdata = options.pgdata ?? process.env.PGDATA;
  if (pgdata === undefined || pgdata === '') {
    throw new WalmgrError('USAGE', `--init-${options.role} needs --pgdata=DIR (or $PGDATA)`, {});
  }
  const dataDir = path.resolve(pgdata);
  const configDir = path.resolve(options.configDir ?? path.join(os.homedir(), 'conf'));
  const file = path.join(configDir, `wal-${options.role}.ini`);
  if (existsSync(file)) {
    throw new WalmgrError('USAGE', `${file} exists already: remove it or give --config-dir`, {
      file,
    });
  }
  const walmgrData = path.resolve(options.walmgrData ?? path.join(os.homedir(), 'walshipping'));
  const lines =
    options.role === 'master'
      ? [
          '[walmgr]',
          'job_name = wal-master',
          `logfile = ${path.join(configDir, 'wal-master.log')}`,
          `master_db = ${masterDb(dataDir)}`,
          `master_data = ${dataDir}`,
          ...(options.slave !== undefined ? [`slave = ${options.slave}`] : []),
          `walmgr_data = ${walmgrData}`,
          'keep_backups = 0',
        ]
      : [
          '[walmgr]',
          'job_name = wal-slave',
          `logfile = ${path.join(configDir, 'wal-slave.log')}`,
          `slave_data = ${dataDir}`,
          `walmgr_data = ${walmgrData}`,
          ...(options.primaryConninfo !== undefined
            ? [`primary_conninfo = ${options.primaryConninfo}`]
            : []),
          ...startStop(dataDir),
        ];
  return { file, text: `${lines.join('\n')}\n` };
}

/** `host=SOCKETDIR port=PORT dbname=postgres` from a running server's postmaster.pid. */
function masterDb(dataDir: string): string {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return 'dbname=postgres';
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const port = lines[3]?.trim();
  const socket = lines[4]?.trim();
  const host = socket !== undefined && socket !== '' ? socket : '127.0.0.1';
  return `host=${host} port=${port} dbname=postgres`;
}

/** slave_start_cmd / slave_stop_cmd through pg_ctl of the data directory's version. */
function startStop(dataDir: string): string[] {
  const version = existsSync(path.join(dataDir, 'PG_VERSION'))
    ? readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim()
    : undefined;
  const debian = version === undefined ? undefined : `/usr/lib/postgresql/${version}/bin/pg_ctl`;
  const pgCtl = debian !== undefined && existsSync(debian) ? debian : 'pg_ctl';
  return [
    `slave_start_cmd = ${pgCtl} -D ${dataDir} -l ${dataDir}/../walmgr-standby.log -w start`,
    `slave_stop_cmd = ${pgCtl} -D ${dataDir} -m fast -w stop`,
  ];
}

export function writeInitConfig(result: { file: string; text: string }): void {
  mkdirSync(path.dirname(result.file), { recursive: true });
  writeFileSync(result.file, result.text, { mode: 0o644, flag: 'wx' });
}
