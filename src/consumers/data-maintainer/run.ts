/**
 * One data_maintainer run (upstream data_maintainer3's work()): sql_before_run, then for each
 * key of the list sql_modify on dbwrite, committing after each row (autocommit, the default)
 * or after each fetch_count rows, pausing while sql_throttle says so and commit_delay after
 * each commit; then sql_after_run. A failure runs sql_on_crash and is rethrown (the job loop
 * logs it and tries again after exception_sleep, or ends a single run). With position_file,
 * a stopped or failed run resumes where it was; the file goes when a run completes.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { openClient } from '../../db/connect.js';
import { fromDatabaseError } from '../../db/database-error.js';
import { SkytoolsError } from '../../errors.js';
import { rawTypes } from '../../pgq/event.js';
import { abortableSleep, formatStats } from '../../script/index.js';
import { bindDstQuery } from '../dst-query.js';
import type { EventParams } from '../payload.js';
import { type KeyRow, openKeys } from './key-source.js';
import { type Position, PositionFile } from './position-file.js';
import type { DataMaintainerSettings, SideStatement } from './settings.js';

/** Upstream's throttle: `true` pauses this many seconds before asking again. */
const throttleTrueSeconds = 30;
/** At most one progress stats line per this many milliseconds (and one at the end). */
const statsEveryMs = 10_000;

export interface RunSignals {
  /** Graceful: stop after the current commit. */
  stop: AbortSignal;
  /** Immediate: stop before the next row; an open transaction is rolled back. */
  now: AbortSignal;
}

class StoppedNow extends Error {}

export class DataMaintainerRun {
  readonly #sessions = new Map<string, pg.Client>();
  readonly #position: PositionFile | null;
  /** The sql_before_run row of this run, for sql_on_crash too. */
  #xparams: EventParams = new Map();

  constructor(
    private readonly settings: DataMaintainerSettings,
    private readonly log: Logger,
    private readonly signals: RunSignals,
    private readonly applicationName: string,
  ) {
    this.#position =
      settings.positionFile === null ? null : new PositionFile(settings.positionFile);
  }

  /** True when the run went through the whole list; false when a stop came first. */
  async run(): Promise<boolean> {
    try {
      return await this.#run();
    } catch (error) {
      if (error instanceof StoppedNow) return false;
      await this.#onCrash();
      throw error;
    }
  }

  async #run(): Promise<boolean> {
    const s = this.settings;
    const started = performance.now();
    const xparams = await this.#before();
    this.#xparams = xparams;
    const from = this.#position?.read() ?? null;
    if (from !== null) {
      this.log.info(
        `resuming after ${from.rows} rows done (position_file ${this.#position?.file})`,
      );
    }
    let total = from?.rows ?? 0;
    let lastKey = from?.key ?? null;
    let thisRun = 0;
    let lastStats = performance.now();
    const keys = await this.#action('opening the key list', () =>
      openKeys(s.source, xparams, this.#position !== null, from, () =>
        this.#session('dbread', s.source.kind === 'query' ? s.source.db : ''),
      ),
    );
    try {
      for (;;) {
        if (this.signals.stop.aborted) return false;
        await this.#throttle();
        const chunk = await this.#action('fetching keys', () => keys.next(s.fetchCount));
        if (chunk.length === 0) break;
        await this.#modify(chunk, xparams);
        total += chunk.length;
        thisRun += chunk.length;
        lastKey = chunk.at(-1)?.key ?? null;
        this.#position?.write({ rows: total, key: lastKey } satisfies Position);
        if (performance.now() - lastStats >= statsEveryMs) {
          lastStats = performance.now();
          this.log.info(formatStats({ count: thisRun, duration: (lastStats - started) / 1000 }));
        }
      }
    } finally {
      await keys.close();
    }
    if (s.after !== null && (total > 0 || s.afterZeroRows)) {
      await this.#side(s.after, xparams);
    }
    this.#position?.remove();
    const seconds = (performance.now() - started) / 1000;
    this.log.info(formatStats({ count: thisRun, duration: seconds }));
    this.log.info(`done: ${total} rows`);
    return true;
  }

  /** sql_before_run; a row it returns gives parameters to the other statements. */
  async #before(): Promise<EventParams> {
    const before = this.settings.before;
    if (before === null) return new Map();
    const result = await this.#side(before, new Map());
    if (result.fields.length === 0) return new Map();
    if (result.rows.length !== 1) {
      throw new SkytoolsError(
        'BAD_INPUT',
        `sql_before_run returned ${result.rows.length} rows; it must return one row (its columns are parameters of the other statements) or none`,
        { key: 'sql_before_run' },
      );
    }
    const row = result.rows[0] as (string | null)[];
    return new Map(result.fields.map((f, i) => [f.name, row[i] ?? null]));
  }

  /** sql_modify for each row of the chunk, committed per row or once for the chunk. */
  async #modify(chunk: KeyRow[], xparams: EventParams): Promise<void> {
    const s = this.settings;
    const db = await this.#session('dbwrite', s.dbwrite);
    if (!s.autocommit) await db.query('begin');
    let open = !s.autocommit;
    try {
      for (const row of chunk) {
        if (this.signals.now.aborted) throw new StoppedNow();
        const params = new Map([...xparams, ...row.params]);
        const what = row.key ? `key (${row.key.join(', ')})` : 'the row';
        const values = bindDstQuery(s.modify, params, '', { key: 'sql_modify', what });
        await this.#action(`sql_modify for ${what}`, () => db.query(s.modify.text, values));
        if (s.autocommit) await this.#commitDelay();
      }
      if (open) {
        await db.query('commit');
        open = false;
        await this.#commitDelay();
      }
    } finally {
      if (open) await db.query('rollback').catch(() => {});
    }
  }

  async #commitDelay(): Promise<void> {
    const delay = this.settings.commitDelay;
    if (delay > 0) await abortableSleep(delay * 1000, [this.signals.stop, this.signals.now]);
  }

  /** Pause while sql_throttle returns true (30 s) or a positive number of seconds. */
  async #throttle(): Promise<void> {
    const throttle = this.settings.throttle;
    if (throttle === null) return;
    while (!this.signals.stop.aborted) {
      const result = await this.#side(throttle, new Map(), false);
      const value =
        result.rows.length === 1 && result.fields.length === 1 ? result.rows[0]?.[0] : undefined;
      const seconds =
        value === 't' ? throttleTrueSeconds : value === 'f' || value === null ? 0 : Number(value);
      if (value === undefined || !Number.isFinite(seconds)) {
        throw new SkytoolsError(
          'BAD_INPUT',
          `sql_throttle must return one value, a boolean or a number of seconds; it returned ${result.rows.length} rows of ${result.fields.length} columns${value === undefined ? '' : ` (${JSON.stringify(value)})`}`,
          { key: 'sql_throttle' },
        );
      }
      if (seconds <= 0) return;
      this.log.debug(`sql_throttle: pausing ${seconds} s`);
      await abortableSleep(seconds * 1000, [this.signals.stop, this.signals.now]);
    }
  }

  /** sql_on_crash after a failure; its own failure is logged, the first one is what counts. */
  async #onCrash(): Promise<void> {
    const crash = this.settings.onCrash;
    // A failed session may be in an aborted transaction or gone: start from fresh ones.
    await this.close();
    if (crash === null) return;
    try {
      await this.#side(crash, this.#xparams);
    } catch (failure) {
      this.log.warn(`sql_on_crash failed too: ${(failure as Error).message}`);
    }
  }

  /** One of the optional statements on its own session, in autocommit; rows as text. */
  async #side(
    statement: SideStatement,
    xparams: EventParams,
    logIt = true,
  ): Promise<pg.QueryResult> {
    const db = await this.#session(statement.dbKey, statement.db);
    const values = bindDstQuery(statement.sql, xparams, '', {
      key: statement.key,
      what: 'the sql_before_run row',
    });
    if (logIt) this.log.debug(`running ${statement.key}`);
    return this.#action(statement.key, () =>
      db.query({ text: statement.sql.text, values, rowMode: 'array', types: rawTypes }),
    );
  }

  async #action<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw fromDatabaseError(error, { action });
    }
  }

  /** One session per INI key (dbread, dbwrite, dbbefore, ...), kept for the run. */
  async #session(key: string, connstr: string): Promise<pg.Client> {
    const known = this.#sessions.get(key);
    if (known !== undefined) return known;
    const client = await openClient(connstr, {
      applicationName: this.applicationName,
      purpose: key,
      onBroken: () => {
        if (this.#sessions.get(key) === client) this.#sessions.delete(key);
      },
    });
    this.#sessions.set(key, client);
    return client;
  }

  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((client) => client.end().catch(() => {})));
  }
}
