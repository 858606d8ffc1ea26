/**
 * The pgqd daemon as a library object: one DatabaseWorker per managed database, the
 * database list from `database_list` or from the server (every `check_period`), the
 * periodic stats line, reload, and the fail-fast exit. No process handlers here: the CLI
 * maps signals to `stop()` and `reload()`; code (bench, tests) drives it directly.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { SkytoolsError } from '../errors.js';
import { abortableSleep } from '../script/sleep.js';
import { formatStats, StatsCounter } from '../script/stats.js';
import { databaseConfig, hostLabel, openClient } from './connection.js';
import { DatabaseWorker, describe } from './database-worker.js';
import type { PgqdSettings } from './settings.js';

export interface PgqdStats {
  ticks: number;
  maint: number;
  retry: number;
  errors: number;
}

export interface PgqdOptions {
  logger: Logger;
  /** Called after every tick (bench: to time ticks against commits). */
  onTick?: (database: string, queue: string, tickId: string, newEvents: number) => void;
}

const listDatabases = `select datname from pg_catalog.pg_database
 where not datistemplate and datallowconn order by datname`;

export class Pgqd {
  private settings: PgqdSettings;
  private readonly log: Logger;
  private readonly onTick: PgqdOptions['onTick'];
  private readonly workers = new Map<string, DatabaseWorker>();
  /** Workers of databases that left the list, still closing. */
  private readonly retiring = new Set<Promise<void>>();
  private readonly period = new StatsCounter<keyof PgqdStats>();
  private readonly totals: PgqdStats = { ticks: 0, maint: 0, retry: 0, errors: 0 };
  private discoveryFailures = 0;
  private readonly stopping = new AbortController();
  private wake = new AbortController();
  private immediate = false;
  private failure: SkytoolsError | undefined;
  private running: Promise<void> | undefined;

  constructor(settings: PgqdSettings, options: PgqdOptions) {
    this.settings = settings;
    this.log = options.logger;
    this.onTick = options.onTick;
  }

  /**
   * Run until `signal` aborts (graceful stop) or `stop()`; resolves once every connection is
   * closed. Rejects with code ALL_DATABASES_FAILED when `exit_after_failures` is reached.
   */
  start(signal?: AbortSignal): Promise<void> {
    if (!this.running) {
      signal?.addEventListener('abort', () => void this.stop(), { once: true });
      if (signal?.aborted) this.stopping.abort();
      this.running = this.run();
    }
    return this.running;
  }

  /** Stop: graceful finishes the statement in flight; immediate closes connections now. */
  async stop(options: { immediate?: boolean } = {}): Promise<void> {
    if (options.immediate) this.immediate = true;
    this.stopping.abort();
    this.wake.abort();
    if (options.immediate) {
      await Promise.all([...this.workers.values()].map((worker) => worker.stop(true)));
    }
    await this.running?.catch(() => {});
  }

  /** Apply new settings (SIGHUP): periods at once, then the database list again. */
  reload(settings: PgqdSettings): void {
    this.settings = settings;
    for (const worker of this.workers.values()) worker.reload(settings);
    this.wake.abort();
  }

  /** Counters since start. */
  stats(): PgqdStats {
    return { ...this.totals };
  }

  /** Databases with a worker, and what each is doing. */
  databases(): Record<string, string> {
    return Object.fromEntries([...this.workers].map(([name, worker]) => [name, worker.state]));
  }

  private async run(): Promise<void> {
    let nextCheck = 0;
    let nextStats = Date.now() + this.settings.statsPeriod * 1000;
    let lastList: string | null = null;
    while (!this.stopping.signal.aborted) {
      const now = Date.now();
      const list = this.settings.databaseList;
      const listKey = list ? list.join(',') : null;
      if (now >= nextCheck || listKey !== lastList) {
        lastList = listKey;
        await this.refreshDatabases();
        nextCheck = Date.now() + this.settings.checkPeriod * 1000;
      }
      if (now >= nextStats) {
        const p = this.period.take();
        this.log.info(
          formatStats({
            ticks: p.ticks ?? 0,
            maint: p.maint ?? 0,
            retry: p.retry ?? 0,
            errors: p.errors ?? 0,
          }),
        );
        nextStats = now + this.settings.statsPeriod * 1000;
      }
      this.checkFailures();
      if (this.failure) break;
      if (!this.wake.signal.aborted) {
        // exit_after_failures is checked every second; otherwise nothing is due before the
        // next listing or stats line (workers wake this loop when a database vanishes).
        const limit = this.settings.exitAfterFailures > 0 ? Date.now() + 1000 : Infinity;
        const wait = Math.min(nextCheck, nextStats, limit) - Date.now();
        await abortableSleep(wait, [this.wake.signal, this.stopping.signal]);
      }
      if (this.wake.signal.aborted && !this.stopping.signal.aborted) {
        // Woken by reload or by a worker whose database vanished: look at the list again,
        // and let shorter periods of a reload apply at once.
        this.wake = new AbortController();
        nextCheck = 0;
        nextStats = Math.min(nextStats, Date.now() + this.settings.statsPeriod * 1000);
      }
    }
    await Promise.all([...this.workers.values()].map((worker) => worker.stop(this.immediate)));
    this.workers.clear();
    await Promise.all(this.retiring);
    if (this.failure) throw this.failure;
  }

  private async refreshDatabases(): Promise<void> {
    const list = this.settings.databaseList;
    let names: string[];
    if (list) {
      names = list;
    } else {
      const found = await this.discover();
      if (found === null) return;
      names = found;
    }
    const wanted = new Set(names);
    for (const [name, worker] of this.workers) {
      if (wanted.has(name)) continue;
      this.workers.delete(name);
      const level = worker.managed ? 'info' : 'debug';
      this.log[level](`Unregister database: ${name}`);
      const retired = worker.stop().finally(() => this.retiring.delete(retired));
      this.retiring.add(retired);
    }
    for (const name of names) {
      if (this.workers.has(name)) continue;
      this.log.debug(`Register database: ${name}`);
      const worker = new DatabaseWorker(name, this.settings, this.log, {
        tick: (queue, tickId, newEvents) => {
          this.count('ticks', 1);
          this.onTick?.(name, queue, tickId, newEvents);
        },
        maint: (steps) => this.count('maint', steps),
        retry: (events) => this.count('retry', events),
        error: () => this.count('errors', 1),
        missing: () => {
          if (!this.settings.databaseList) this.wake.abort();
        },
      });
      this.workers.set(name, worker);
      worker.start();
    }
  }

  /** The databases of the server, or null when the initial database cannot be read. */
  private async discover(): Promise<string[] | null> {
    const config = databaseConfig(this.settings.baseConnstr, this.settings.initialDatabase);
    let client: pg.Client | undefined;
    try {
      client = await openClient(config);
      const { rows } = await client.query<{ datname: string }>(listDatabases);
      if (this.discoveryFailures > 0) this.log.info('database list readable again');
      this.discoveryFailures = 0;
      return rows.map((row) => row.datname);
    } catch (error) {
      this.discoveryFailures++;
      this.count('errors', 1);
      this.log
        .child({ host: hostLabel(config), db: this.settings.initialDatabase, queue: '*' })
        .error(`cannot list databases (attempt ${this.discoveryFailures}): ${describe(error)}`);
      return null;
    } finally {
      await client?.end().catch(() => {});
    }
  }

  /** exit_after_failures: every database (and the database list) failed N times in a row. */
  private checkFailures(): void {
    const limit = this.settings.exitAfterFailures;
    if (limit <= 0 || this.failure) return;
    const counts = [...this.workers.values()]
      .filter((worker) => worker.managed)
      .map((worker) => worker.failures);
    if (!this.settings.databaseList) counts.push(this.discoveryFailures);
    if (counts.length === 0 || counts.some((count) => count < limit)) return;
    this.failure = new SkytoolsError(
      'ALL_DATABASES_FAILED',
      `every database failed ${limit} times in a row (exit_after_failures = ${limit}): giving up`,
      { databases: [...this.workers.keys()] },
    );
    this.log.fatal(this.failure.message);
  }

  private count(key: keyof PgqdStats, by: number): void {
    this.totals[key] += by;
    this.period.increase(key, by);
  }
}
