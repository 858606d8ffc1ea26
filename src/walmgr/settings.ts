/**
 * walmgr's settings: upstream's INI (`[walmgr]` or `[walmgr3]`, spec §7.2) read as upstream
 * reads it. A file with `master_data` is a master config, otherwise a slave config. The
 * archive paths may be written `host:path` as upstream's master files do; a host that is this
 * machine (`localhost`, `127.0.0.1`, the host name) is dropped, another one makes the slave
 * remote: the paths are then the slave's, reached over ssh and rsync (remote.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { Config } from '../config/config.js';
import { baseScriptKeys, warnUnknownKeys } from '../config/known-keys.js';
import { WalmgrError } from './errors.js';

export const walmgrSections = ['walmgr', 'walmgr3'];

/** Every key of spec §7.2, plus ours; other keys of the section get one warning line. */
export const walmgrKeys = [
  ...baseScriptKeys,
  'walmgr_data',
  'completed_wals',
  'partial_wals',
  'full_backup',
  'config_backup',
  'master_db',
  'master_data',
  'master_config',
  'master_bin',
  'master_restart_cmd',
  'slave',
  'slave_config',
  'use_xlog_functions',
  'compression',
  'keep_symlinks',
  'hot_standby',
  'command_interval',
  'periodic_command',
  'slave_data',
  'slave_bin',
  'slave_stop_cmd',
  'slave_start_cmd',
  'slave_config_dir',
  'slave_pg_xlog',
  'backup_datadir',
  'keep_backups',
  'archive_command',
  'primary_conninfo',
  // ours
  'archive_compression',
  'archive_ahead',
  'node_bin',
  'ssh_command',
  'slave_walmgr',
] as const;

/** A slave on another host: the archive paths are paths there. */
/**
 * No prompt (archive_command has no terminal), a new host's key taken once and a changed one
 * refused, and a dead peer or cut network ends the command within about a minute (the server
 * then retries archive_command) instead of hanging it.
 */
const defaultSsh = [
  'ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new',
  '-o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4',
].join(' ');

export interface RemoteSlave {
  /** `[user@]host` as the archive paths name it. */
  host: string;
  /** The slave's INI, on the slave (`slave_config`). */
  config: string;
  /** How to start walmgr there (`slave_walmgr`, ours; default `walmgr`). */
  walmgr: string;
  /** ssh and its options (`ssh_command`, ours), split on blanks. */
  ssh: string[];
}

export type Compression = 'none' | 'gzip';

export interface WalmgrSettings {
  /** Absolute path of the INI file (the archive_command names it). */
  file: string;
  /** `master` when the file has `master_data`, else `slave`. */
  role: 'master' | 'slave';
  jobName: string;
  logfile: string | undefined;
  walmgrData: string;
  completedWals: string;
  partialWals: string;
  fullBackup: string;
  configBackup: string;
  masterDb: string;
  masterData: string | undefined;
  masterConfig: string | undefined;
  masterBin: string | undefined;
  masterRestartCmd: string | undefined;
  slaveData: string | undefined;
  slaveBin: string | undefined;
  slaveStopCmd: string | undefined;
  slaveStartCmd: string | undefined;
  backupDatadir: boolean;
  /** Old backups kept besides the newest (upstream: 0 = only the newest). */
  keepBackups: number;
  /** Run on an expiring backup before it is deleted (`$BACKUPDIR` set to it). */
  archiveCommand: string | undefined;
  primaryConninfo: string | undefined;
  /** How xarchive stores segments (ours: `archive_compression = gzip`). */
  compression: Compression;
  hotStandby: boolean;
  commandInterval: number;
  periodicCommand: string | undefined;
  /** `setup` writes the archive_command that confirms what `archive-ahead` archived (ours). */
  archiveAhead: boolean;
  /** Seconds between two rounds of `syncdaemon`. */
  loopDelay: number;
  /** `syncdaemon`'s pid file; `stop` ends the daemon it names. */
  pidfile: string | undefined;
  /** Set when the archive paths name another host. */
  remote: RemoteSlave | undefined;
}

/** Read `file`; unknown keys are reported through `warn`, one line each. */
export function loadWalmgrSettings(
  file: string,
  options: { overrides?: Record<string, string>; warn?: (line: string) => void } = {},
): WalmgrSettings {
  const cf = Config.load(file, walmgrSections, {
    defaults: {
      walmgr_data: '~/walshipping',
      completed_wals: '%(walmgr_data)s/logs.complete',
      partial_wals: '%(walmgr_data)s/logs.partial',
      full_backup: '%(walmgr_data)s/data.master',
      config_backup: '%(walmgr_data)s/config.backup',
      master_db: 'dbname=template1',
    },
    overrides: options.overrides ?? {},
  });
  if (options.warn) warnUnknownKeys(cf, walmgrKeys, options.warn);
  return settingsFrom(cf);
}

function settingsFrom(cf: Config): WalmgrSettings {
  const optional = (key: string) => {
    if (!cf.has(key)) return undefined;
    const value = cf.get(key).trim();
    return value === '' ? undefined : value;
  };
  const optionalPath = (key: string) => {
    const value = optional(key);
    return value === undefined ? undefined : localPath(cf, key, value);
  };
  const hosts = new Set<string>();
  const archivePath = (key: string) => {
    const { host, file } = archiveLocation(cf, key, cf.getFile(key));
    if (host !== undefined) hosts.add(host);
    return file;
  };
  const compression = (optional('archive_compression') ?? 'none').toLowerCase();
  if (compression !== 'none' && compression !== 'gzip') {
    throw cf.error(
      'archive_compression',
      `archive_compression = "${compression}" is not one of: none, gzip`,
    );
  }
  const masterData = optionalPath('master_data');
  return {
    file: cf.file,
    role: masterData === undefined ? 'slave' : 'master',
    jobName: cf.get('job_name'),
    logfile: optionalPath('logfile'),
    walmgrData: archivePath('walmgr_data'),
    completedWals: archivePath('completed_wals'),
    partialWals: archivePath('partial_wals'),
    fullBackup: archivePath('full_backup'),
    configBackup: archivePath('config_backup'),
    masterDb: cf.get('master_db'),
    masterData,
    masterConfig: optionalPath('master_config'),
    masterBin: optionalPath('master_bin'),
    masterRestartCmd: optional('master_restart_cmd'),
    slaveData: optionalPath('slave_data'),
    slaveBin: optionalPath('slave_bin'),
    slaveStopCmd: optional('slave_stop_cmd'),
    slaveStartCmd: optional('slave_start_cmd'),
    backupDatadir: cf.getBool('backup_datadir', true),
    keepBackups: nonNegative(cf, 'keep_backups', 0),
    archiveCommand: optional('archive_command'),
    primaryConninfo: optional('primary_conninfo'),
    compression: compression as Compression,
    hotStandby: cf.getBool('hot_standby', false),
    commandInterval: cf.getSeconds('command_interval', 0),
    periodicCommand: optional('periodic_command'),
    archiveAhead: cf.getBool('archive_ahead', false),
    loopDelay: cf.getSeconds('loop_delay', 10),
    pidfile: optionalPath('pidfile'),
    remote: remoteSlave(cf, hosts, optional),
  };
}

function remoteSlave(
  cf: Config,
  hosts: Set<string>,
  optional: (key: string) => string | undefined,
): RemoteSlave | undefined {
  if (hosts.size === 0) return undefined;
  const host = [...hosts][0] as string;
  if (hosts.size > 1) {
    throw cf.error(
      'completed_wals',
      `the archive paths name more than one host (${[...hosts].join(', ')}): one slave host only`,
    );
  }
  const config = optional('slave_config');
  if (config === undefined) {
    throw cf.error(
      'slave_config',
      `the archive is on ${host}: slave_config must name the slave's INI file there`,
    );
  }
  return {
    host,
    config,
    walmgr: optional('slave_walmgr') ?? 'walmgr',
    ssh: (optional('ssh_command') ?? defaultSsh).split(/\s+/).filter((word) => word !== ''),
  };
}

function nonNegative(cf: Config, key: string, fallback: number): number {
  const value = cf.getInt(key, fallback);
  if (value < 0) throw cf.error(key, `${key} = ${value} must be 0 or more`);
  return value;
}

const localHosts = new Set(['localhost', '127.0.0.1', '::1', os.hostname()]);

/** `host:path` → path when host is this machine; a bare path as is; made absolute. */
function localPath(cf: Config, key: string, value: string): string {
  const { host, file } = archiveLocation(cf, key, value);
  if (host !== undefined) {
    throw new WalmgrError(
      'BAD_SETTINGS',
      `${cf.error(key, '').message}${key} = "${value}" names another host: only the archive paths may be remote`,
      { file: cf.file, key },
    );
  }
  return file;
}

/** `host:path`: the host when it is another machine, and the path (absolute). */
function archiveLocation(
  cf: Config,
  key: string,
  value: string,
): { host: string | undefined; file: string } {
  const match = /^((?:[A-Za-z0-9._-]+@)?[A-Za-z0-9._-]+):(.*)$/.exec(value);
  if (!match) return { host: undefined, file: path.resolve(path.dirname(cf.file), value) };
  const host = match[1] as string;
  const file = match[2] as string;
  if (localHosts.has(host))
    return { host: undefined, file: path.resolve(path.dirname(cf.file), file) };
  if (!path.isAbsolute(file))
    throw cf.error(key, `${key} = "${value}": a remote path must be absolute`);
  return { host, file };
}
