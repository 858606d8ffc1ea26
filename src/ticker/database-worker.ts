/**
 * pgqd's work in one database, on one connection: find out whether the database has a usable
 * pgq, take the ticker lock (so two pgqd never tick one database at once), then tick,
 * move retry events and run maintenance steps, one statement (one transaction) at a time,
 * ticking first whenever it is due. Errors close the connection and retry with backoff.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { abortableSleep } from '../script/sleep.js';
import { databaseConfig, hostLabel, openClient } from './connection.js';
import {
  type MaintOperation,
  operationStatement,
  quoteQualifiedName,
  wantsRepeat,
} from './maintenance.js';
import type { PgqdSettings } from './settings.js';
import * as sql from './statements.js';

export type WorkerState =
  | 'connecting'
  | 'no-pgq'
  | 'bad-version'
  | 'standby'
  | 'active'
  | 'failing'
  | 'stopped';

export interface WorkerEvents {
  tick(queue: string, tickId: string, newEvents: number): void;
  maint(steps: number): void;
  retry(events: number): void;
  error(): void;
  /** The database does not exist (any more): the daemon re-lists databases. */
  missing(): void;
}

interface TickRow {
  queue_name: string | null;
  tick_id: string | null;
  new_events: string;
  /** Only from the wake-up pass: a tick (or one to come) for events committed late. */
  late_events?: boolean;
  /** Only from the wake-up pass: events are there, the last tick is too young. */
  waiting?: boolean;
  /** Only from the wake-up pass, on its last row (queue_name NULL): seconds to leave it. */
  next_pass?: number | null;
}

const initialBackoff = 1000;
/**
 * Longest sleep of an idle database with wake-ups (seconds), whatever the pass says: a change
 * nothing announces (a queue unpaused by UPDATE, events COPYed in by hand) waits this long.
 */
const longestIdleSleep = 30;

export class DatabaseWorker {
  readonly database: string;
  state: WorkerState = 'connecting';
  /** Failed attempts in a row (connect or statement); reset by a successful tick pass. */
  failures = 0;
  private settings: PgqdSettings;
  private readonly events: WorkerEvents;
  private readonly baseLog: Logger;
  private log: Logger;
  private client: pg.Client | undefined;
  private connectedAt = 0;
  private hasTickerPass = false;
  /** pgq.ticker_pass of 3 arguments: producers can wake pgqd (NOTIFY pgq_wakeup). */
  private hasWakeup = false;
  /** LISTEN pgq_wakeup is in force on the current connection. */
  private listening = false;
  /** Queues named by NOTIFY pgq_wakeup since the last pass. */
  private readonly notified = new Set<string>();
  private hasMaintOperations = false;
  private warnedVersion = false;
  private warnedNoPass = false;
  private standbyLogged = false;
  private nextTick = 0;
  private tickDelay = 0;
  private nextRetry = 0;
  private nextMaint = 0;
  private maintQueue: MaintOperation[] = [];
  private backoff = initialBackoff;
  private readonly stopping = new AbortController();
  private wake = new AbortController();
  private running: Promise<void> | undefined;

  constructor(database: string, settings: PgqdSettings, log: Logger, events: WorkerEvents) {
    this.database = database;
    this.settings = settings;
    this.events = events;
    this.baseLog = log;
    this.log = this.childLog();
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** New settings: periods apply from the next step; a changed connect string reconnects. */
  reload(settings: PgqdSettings): void {
    const reconnect = settings.baseConnstr !== this.settings.baseConnstr;
    this.settings = settings;
    this.log = this.childLog();
    if (reconnect) void this.disconnect();
    this.tickDelay = Math.min(this.tickDelay, settings.tickerPeriod * 1000);
    this.wake.abort();
  }

  /** Graceful: finish the statement in flight, then close. Immediate: close at once. */
  async stop(immediate = false): Promise<void> {
    this.stopping.abort();
    this.wake.abort();
    if (immediate) {
      // Do not wait for a connection attempt in flight (connect timeouts are long): the loop
      // closes what it gets once it sees it is stopping.
      await this.disconnect();
      this.state = 'stopped';
      return;
    }
    await this.running;
    await this.clearWakeup();
    await this.disconnect();
    this.state = 'stopped';
  }

  /** Stopping: producers need not wake this pgqd any more (the flag would expire anyway). */
  private async clearWakeup(): Promise<void> {
    if (!this.client || !this.listening || this.state !== 'active') return;
    try {
      await this.client.query(sql.clearWakeup);
    } catch (error) {
      // The flag expires by itself; a broken connection at exit is not worth more than a line.
      this.log.debug(`could not clear the wake-up flag: ${describe(error)}`);
    }
  }

  /** NOTIFY pgq_wakeup from a producer: tick that queue now (the pass keeps the minimum gap). */
  private onNotification(message: pg.Notification): void {
    if (message.channel !== sql.wakeupChannel || message.payload === undefined) return;
    this.notified.add(message.payload);
    this.nextTick = Math.min(this.nextTick, Date.now());
    this.wake.abort();
  }

  /** Counts toward "every database failed" only while it should be ticking. */
  get managed(): boolean {
    return this.state !== 'no-pgq' && this.state !== 'bad-version' && this.state !== 'stopped';
  }

  private childLog(): Logger {
    const config = databaseConfig(this.settings.baseConnstr, this.database);
    return this.baseLog.child({ host: hostLabel(config), db: this.database });
  }

  private async loop(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const wait = await this.step();
        if (wait > 0) await this.sleep(wait);
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        this.fail(error);
        await this.disconnect();
        await this.sleep(this.backoff);
        this.backoff = Math.min(this.backoff * 2, this.settings.reconnectMaxDelay * 1000);
      }
    }
  }

  /** Do the most urgent thing; returns how long to sleep before the next step (ms). */
  private async step(): Promise<number> {
    const s = this.settings;
    if (!this.client) {
      const ready = await this.connect();
      if (!ready) return s.checkPeriod * 1000;
    }
    const client = this.client as pg.Client;
    if (this.state !== 'active') {
      const { rows } = await client.query(sql.tryLock, [...sql.lockKey]);
      if (!rows[0]?.locked) {
        if (!this.standbyLogged) {
          this.log.info('another pgqd holds the ticker lock of this database: standing by');
          this.standbyLogged = true;
        }
        this.state = 'standby';
        this.failures = 0;
        this.backoff = initialBackoff;
        return s.tickerPeriod * 1000;
      }
      if (this.standbyLogged) this.log.info('took over ticking (ticker lock acquired)');
      this.standbyLogged = false;
      this.state = 'active';
      const now = Date.now();
      this.nextTick = now;
      this.nextRetry = now;
      this.nextMaint = now;
      this.tickDelay = s.tickerPeriod * 1000;
    }
    const now = Date.now();
    if (now >= this.nextTick) {
      await this.tick(client, now);
      if (now - this.connectedAt > s.connectionLifetime * 1000) {
        this.log.debug('connection_lifetime reached: reconnecting');
        await this.disconnect();
      }
      return 0;
    }
    if (now >= this.nextRetry) {
      const { rows } = await client.query(sql.retryEvents);
      const moved = Number(Object.values(rows[0] ?? {})[0] ?? 0);
      if (moved > 0) this.events.retry(moved);
      this.nextRetry = moved > 0 ? now : now + s.retryPeriod * 1000;
      return 0;
    }
    const op = this.maintQueue[0];
    if (op) {
      await this.runOperation(client, op);
      return 0;
    }
    if (now >= this.nextMaint) {
      const { rows } = await client.query<MaintOperation>(
        this.hasMaintOperations ? sql.maintOperations : sql.legacyMaintOperations,
      );
      this.maintQueue = rows;
      this.nextMaint = now + s.maintPeriod * 1000;
      return 0;
    }
    return Math.min(this.nextTick, this.nextRetry, this.nextMaint) - now;
  }

  private async tick(client: pg.Client, now: number): Promise<void> {
    const s = this.settings;
    const lowLatency = s.tickerMinInterval > 0 && this.hasTickerPass;
    if (s.tickerMinInterval > 0 && !this.hasTickerPass && !this.warnedNoPass) {
      this.log.info('pgq.ticker_pass() not found: ticking with upstream policy only');
      this.warnedNoPass = true;
    }
    const wakeups = lowLatency && this.hasWakeup;
    if (wakeups && !this.listening) {
      await client.query(sql.listenWakeup);
      this.listening = true;
    }
    const rows = wakeups ? await this.wakeupPass(client) : await this.plainPass(client, lowLatency);
    let busy = false;
    let nextPass = 0;
    for (const row of rows) {
      if (row.queue_name === null) {
        nextPass = Number(row.next_pass ?? 0) * 1000;
        continue;
      }
      const newEvents = Number(row.new_events);
      if (row.waiting || (row.tick_id !== null && (newEvents > 0 || row.late_events))) busy = true;
      if (row.tick_id !== null) this.events.tick(row.queue_name, row.tick_id, newEvents);
    }
    // Busy: come back after the minimum interval. Idle with wake-ups: the pass has set the
    // producers' flag (a commit wakes us); come back when it says the first queue is due for
    // an idle tick, not sooner than ticker_period. Idle without: back off, doubling up to
    // ticker_period.
    const period = s.tickerPeriod * 1000;
    if (wakeups) {
      this.tickDelay = busy ? s.tickerMinInterval * 1000 : Math.max(period, nextPass);
    } else if (lowLatency) {
      const min = s.tickerMinInterval * 1000;
      this.tickDelay = busy ? min : Math.min(period, Math.max(min, this.tickDelay * 2));
    } else {
      this.tickDelay = period;
    }
    this.nextTick = now + this.tickDelay;
    // A NOTIFY that came while the pass ran (its names were taken before): pass again now.
    if (this.notified.size > 0) this.nextTick = Date.now();
    this.failures = 0;
    this.backoff = initialBackoff;
  }

  private async plainPass(client: pg.Client, lowLatency: boolean): Promise<TickRow[]> {
    // Without the low-latency policy ticker_pass still counts new events better than
    // get_queue_info (the first event of a queue): an interval of decades forces no tick.
    const { rows } = this.hasTickerPass
      ? await client.query<TickRow>(sql.tickPass, [
          lowLatency ? this.settings.tickerMinInterval : 1e9,
        ])
      : await client.query<TickRow>(sql.tickQueues);
    return rows;
  }

  private async wakeupPass(client: pg.Client): Promise<TickRow[]> {
    const s = this.settings;
    const names = [...this.notified];
    this.notified.clear();
    // The flag lasts twice the longest sleep (the pass renews it when half is gone), so a
    // pgqd that dies without clearing it leaves producers notifying for this long at most.
    const sleep = 2 * Math.max(longestIdleSleep, s.tickerPeriod);
    try {
      const { rows } = await client.query<TickRow>(sql.wakeupPass, [
        s.tickerMinInterval,
        names,
        sleep,
      ]);
      return rows;
    } catch (error) {
      for (const name of names) this.notified.add(name);
      throw error;
    }
  }

  private async runOperation(client: pg.Client, op: MaintOperation): Promise<void> {
    const statement = operationStatement(op);
    let result: pg.QueryResult;
    try {
      result = await client.query(statement.text, statement.values);
    } catch (error) {
      this.maintQueue.shift();
      this.log
        .child({ queue: op.func_arg ?? '*' })
        .error(`maintenance step ${statement.text} failed: ${describe(error)}`);
      this.events.error();
      // The connection may be gone too; the next statement tells.
      return;
    }
    this.events.maint(1);
    const vacuum = /^vacuum/i.test(op.func_name.trim());
    if (vacuum || !wantsRepeat(result)) this.maintQueue.shift();
  }

  /** Connect and look at the database; false: nothing to do here until check_period. */
  private async connect(): Promise<boolean> {
    this.state = 'connecting';
    const client = await openClient(databaseConfig(this.settings.baseConnstr, this.database));
    if (this.stopping.signal.aborted) {
      await client.end().catch(() => {});
      return false;
    }
    this.client = client;
    this.listening = false;
    client.on('notification', (message) => this.onNotification(message));
    this.connectedAt = Date.now();
    this.maintQueue = [];
    const { rows } = await client.query(sql.hasPgqSchema);
    if (!rows[0]?.has_pgq) {
      this.log.debug('no pgq schema in this database: ignored, checked again after check_period');
      return this.ignore('no-pgq');
    }
    const probe = await client.query(sql.probePgq);
    const info = probe.rows[0] ?? {};
    const version = info.version === null ? null : String(info.version);
    if (version === null || !(version.charAt(0) >= '3')) {
      if (!this.warnedVersion) {
        this.log.warn(`bad pgq version, ignoring (pgq.version() = ${version ?? 'NULL'})`);
        this.warnedVersion = true;
      }
      return this.ignore('bad-version');
    }
    this.warnedVersion = false;
    this.hasTickerPass = Boolean(info.has_ticker_pass);
    this.hasWakeup = Boolean(info.has_wakeup);
    this.hasMaintOperations = Boolean(info.has_maint_operations);
    if (this.failures > 0) this.log.info('connection restored');
    else this.log.info(`pgq ${version} found: managing this database`);
    this.state = 'standby';
    return true;
  }

  private async ignore(state: WorkerState): Promise<false> {
    await this.disconnect();
    this.state = state;
    this.failures = 0;
    this.backoff = initialBackoff;
    return false;
  }

  private fail(error: unknown): void {
    this.failures++;
    const code = (error as { code?: string }).code;
    this.events.error();
    this.log
      .child({ queue: queueOf(error) })
      .error(
        `${this.client ? 'statement failed' : 'cannot connect'} (attempt ${this.failures}): ${describe(error)}`,
      );
    this.state = 'failing';
    if (code === '3D000') this.events.missing();
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    if (this.state === 'active') this.state = 'connecting';
    if (client) await client.end().catch(() => {});
  }

  private async sleep(ms: number): Promise<void> {
    if (this.wake.signal.aborted) this.wake = new AbortController();
    // A NOTIFY that came while the step ran: no sleep.
    if (this.notified.size > 0 && this.state === 'active') return;
    await abortableSleep(ms, [this.wake.signal, this.stopping.signal]);
  }
}

/** The message of a driver or other error, with PostgreSQL's SQLSTATE and DETAIL. */
export function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; detail?: string };
  const parts = [e.message ?? String(error)];
  // PostgreSQL's five-character SQLSTATE; Node's own codes (ECONNREFUSED) are in the message.
  if (e.code && /^[0-9A-Z]{5}$/.test(e.code)) parts.push(`SQLSTATE ${e.code}`);
  if (e.detail) parts.push(`DETAIL: ${e.detail}`);
  return parts.join('; ');
}

/** The queue an error is about: pgq names it in DETAIL (`queue: x`); else all of them. */
function queueOf(error: unknown): string {
  const detail = (error as { detail?: string }).detail ?? '';
  const match = /queue: ([^,]+)/.exec(detail);
  return match ? (match[1] as string) : '*';
}

export { quoteQualifiedName };
