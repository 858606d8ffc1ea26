/**
 * The main worker's replay (spec §6.4, §6.5, §6.8): each batch it loads the table states,
 * moves the copy protocol on (a new table goes in-copy when a copy slot is free and its
 * copy process starts; a copy that wants to hand over at tick W gets `do-sync:<tick>` once
 * this worker's batch reaches W), drops copy snapshots no later batch can need, restores
 * foreign keys whose tables are ready, then applies the events of `ok` tables with their
 * handlers, EXECUTE and Londiste's own events at their queue position, all in the batch's
 * transaction with the state changes.
 */
import type pg from 'pg';
import type { BatchContext, CascadeWorkerHooks } from '../../cascade/worker-hooks.js';
import { quoteLiteral } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { Event } from '../../pgq/event.js';
import type { Logger } from '../../pgq/logger.js';
import { sleep } from '../../pgq/wakeup.js';
import type { LondisteSettings } from '../settings.js';
import { parseMergeState, type TableInfo } from '../table-state.js';
import type { CopyStarter } from './copy-tasks.js';
import { replayExecute } from './execute.js';
import { applyContext, type ReplayTable, TableReplay } from './handlers.js';
import { applyLondisteEvent, isLondisteEvent } from './londiste-events.js';
import { TxidSnapshot } from './snapshot.js';
import { copyReadyTables, loadLocalTables, setTableState, workerTableAttrs } from './tables.js';

type ReplaySettings = Pick<
  LondisteSettings,
  | 'handlerModules'
  | 'handlerConfig'
  | 'parallelCopies'
  | 'localOnly'
  | 'localOnlyDropExecute'
  | 'registerOnlyTables'
  | 'registerSkipTables'
  | 'registerOnlySeqs'
  | 'registerSkipSeqs'
>;

const registrationsOnly = "ev_type like 'londiste.%'";

const copyStates = new Set(['in-copy', 'catching-up', 'wanna-sync', 'do-sync']);

/** Whether a table is in the hands of a copy process. */
export function inCopy(table: TableInfo): boolean {
  const state = parseMergeState(table.mergeState);
  return state !== null && copyStates.has(state.kind);
}

/** The session role replay runs with: replica, so local triggers stay silent. */
export async function replicaSession(session: pg.Client): Promise<void> {
  await session.query("select londiste.set_session_replication_role('replica', false)");
}

/** Batches an ok table's copy snapshot is kept when its copy came from another node. */
const snapshotBatches = 3;

/** How often the worker reads the states while it waits for a copy's handover. */
const handoverPollMs = 20;

export class Replay {
  readonly tables: TableReplay;
  /** What the last batch applied and ignored (the stats line). */
  counts = { applied: 0, ignored: 0 };
  /** Tables in copy as of the last batch: an idle worker forces ticks while there are any. */
  copying = false;
  #tables = new Map<string, TableInfo>();
  #states: { table: string; snapshot: string | null; state: string | null }[] = [];
  #inBatch = false;
  /** The run's stop signal (a wait for a copy ends with it). */
  signal: AbortSignal | undefined;
  /** Batches seen per ok table with a snapshot from another node. */
  #snapshotAge = new Map<string, number>();

  constructor(
    private readonly queue: string,
    private readonly settings: ReplaySettings,
    private readonly launcher: CopyStarter | null,
    private readonly log: Logger,
    baseDir?: string,
  ) {
    this.tables = new TableReplay(settings.handlerModules, baseDir, settings.handlerConfig);
  }

  hooks(): CascadeWorkerHooks {
    return {
      onConnect: async (session, role) => {
        if (role === 'subscriber') await replicaSession(session);
      },
      beforeBatch: (ctx) => this.#beforeBatch(ctx),
      // A merge leaf behind a combined branch applies no rows and no EXECUTE (spec §2.3):
      // they reach its database through the combined queue, which the combined branch's
      // worker replays. The set's registrations (londiste.*) are the partition queue's.
      eventFilter: (ctx) => (ctx.kind === 'wait-behind' ? registrationsOnly : this.#eventFilter()),
      applyEvents: (ctx, events) => this.#applyEvents(ctx, events),
      beforeCompleted: (ctx) => this.#beforeCompleted(ctx),
      forwardEvent: (_ctx, event) => this.#forward(event),
      afterCommit: () => {
        this.#inBatch = false;
      },
    };
  }

  async #beforeBatch(ctx: BatchContext): Promise<void> {
    const failedBefore = this.#inBatch;
    this.#inBatch = true;
    this.#states = [];
    await this.tables.loadModules();
    const db = ctx.subscriber;
    this.#tables = await this.#waitHandover(ctx);
    await this.#moveCopies(ctx);
    const replayed = new Map<string, ReplayTable>();
    for (const table of this.#tables.values()) {
      if (parseMergeState(table.mergeState)?.kind !== 'ok') continue;
      const snapshot = await this.#keptSnapshot(ctx, table);
      replayed.set(table.tableName, { info: table, snapshot });
    }
    this.tables.begin(replayed, failedBefore);
    await this.#restoreFkeys(db);
  }

  /**
   * The table states, once no copy still has to reach a do-sync tick this batch starts at
   * or after: events past T are this worker's, so it waits for the copy to apply up to T and
   * set ok (upstream's main thread waits the same way).
   */
  async #waitHandover(ctx: BatchContext): Promise<Map<string, TableInfo>> {
    const start = BigInt(ctx.batch.prevTick);
    let said = false;
    for (;;) {
      const tables = await loadLocalTables(ctx.subscriber, this.queue);
      const waiting = [...tables.values()].filter((t) => {
        const state = parseMergeState(t.mergeState);
        return state?.kind === 'do-sync' && start >= BigInt(state.tick);
      });
      if (waiting.length === 0) return tables;
      if (!said) {
        this.log.info(
          { tables: waiting.map((t) => t.tableName) },
          'waiting for copies to reach their handover tick',
        );
        said = true;
      }
      for (const table of waiting) this.launcher?.ensure(table.tableName);
      await sleep(handoverPollMs, this.signal);
      if (this.signal?.aborted) {
        throw new SkytoolsError('STOPPED', 'stopped while waiting for a copy to hand over', {
          queue: this.queue,
        });
      }
    }
  }

  /** The main worker's side of the copy protocol. */
  async #moveCopies(ctx: BatchContext): Promise<void> {
    const db = ctx.subscriber;
    const tables = [...this.#tables.values()];
    let busy = tables.filter(inCopy).length;
    let providerOk: Set<string> | null = null;
    for (const table of tables) {
      const state = parseMergeState(table.mergeState);
      if (state === null) {
        this.log.warn({ table: table.tableName }, `unknown table state ${table.mergeState}`);
        continue;
      }
      if (state.kind === 'new') {
        const attrs = workerTableAttrs(table.tableAttrs);
        const limit = Math.min(
          this.settings.parallelCopies,
          attrs.maxParallelCopy ?? Number.POSITIVE_INFINITY,
        );
        if (busy >= limit || this.launcher === null) continue;
        if (attrs.copyNode === null) {
          providerOk ??= await this.#providerOk(ctx.provider);
          if (!providerOk.has(table.tableName)) continue;
        }
        await this.#dropFkeys(db, table.tableName);
        await setTableState(db, this.queue, table.tableName, null, 'in-copy');
        table.mergeState = 'in-copy';
        this.log.info({ table: table.tableName }, `${table.tableName}: copy starts`);
        busy++;
        this.launcher.ensure(table.tableName);
      } else if (copyStates.has(state.kind)) {
        this.launcher?.ensure(table.tableName);
        if (state.kind === 'wanna-sync' && BigInt(ctx.batch.tick) >= BigInt(state.tick)) {
          this.#states.push({
            table: table.tableName,
            snapshot: table.customSnapshot,
            state: `do-sync:${ctx.batch.tick}`,
          });
          this.log.info(
            { table: table.tableName, tick: ctx.batch.tick },
            `${table.tableName}: copy may hand over at tick ${ctx.batch.tick}`,
          );
        }
      }
    }
    this.copying = busy > 0;
  }

  async #providerOk(provider: pg.Client): Promise<Set<string>> {
    return copyReadyTables(provider, this.queue);
  }

  /** Every fkey to or from the table, one transaction each, kept in pending_fkeys. */
  async #dropFkeys(db: pg.Client, table: string): Promise<void> {
    const { rows } = await db.query(
      'select from_table, fkey_name from londiste.find_table_fkeys($1)',
      [table],
    );
    for (const row of rows) {
      this.log.info({ table, fkey: row.fkey_name }, `dropping fkey ${row.fkey_name} for the copy`);
      await db.query('select londiste.drop_table_fkey($1, $2)', [row.from_table, row.fkey_name]);
    }
  }

  async #restoreFkeys(db: pg.Client): Promise<void> {
    const { rows } = await db.query(
      'select from_table, fkey_name from londiste.get_valid_pending_fkeys($1)',
      [this.queue],
    );
    for (const row of rows) {
      this.log.info(
        { table: row.from_table, fkey: row.fkey_name },
        `restoring fkey ${row.fkey_name}`,
      );
      await db.query('select londiste.restore_table_fkey($1, $2)', [row.from_table, row.fkey_name]);
    }
  }

  /**
   * An ok table's copy snapshot while a batch can still hold events the copy has: until the
   * batch starts at a tick whose snapshot sees every transaction the copy saw. Then it is
   * dropped (with the batch).
   */
  async #keptSnapshot(ctx: BatchContext, table: TableInfo): Promise<TxidSnapshot | null> {
    if (table.customSnapshot === null) return null;
    const snapshot = new TxidSnapshot(table.customSnapshot);
    let done: boolean;
    if (workerTableAttrs(table.tableAttrs).copyNode === null) {
      const { rows } = await ctx.provider.query(
        `select txid_snapshot_xmin(t.tick_snapshot)::text as xmin
           from pgq.tick t join pgq.queue q on q.queue_id = t.tick_queue
          where q.queue_name = $1 and t.tick_id = $2`,
        [this.queue, ctx.batch.prevTick],
      );
      const xmin = rows[0]?.xmin as string | undefined;
      done = xmin !== undefined && BigInt(xmin) >= snapshot.xmax;
    } else {
      const age = (this.#snapshotAge.get(table.tableName) ?? 0) + 1;
      this.#snapshotAge.set(table.tableName, age);
      done = age > snapshotBatches;
    }
    if (!done) return snapshot;
    this.#snapshotAge.delete(table.tableName);
    this.#states.push({ table: table.tableName, snapshot: null, state: table.mergeState });
    return null;
  }

  /** local_only: the local tables' events, EXECUTE (unless dropped) and Londiste's own. */
  #eventFilter(): string | null {
    if (!this.settings.localOnly) return null;
    const names = [...this.#tables.keys()].map(quoteLiteral);
    const parts = [
      names.length > 0 ? `ev_extra1 in (${names.join(', ')})` : 'false',
      "ev_type like 'londiste.%'",
    ];
    if (!this.settings.localOnlyDropExecute) parts.push("ev_type = 'EXECUTE'");
    return parts.join(' or ');
  }

  async #applyEvents(ctx: BatchContext, batchEvents: readonly Event[]): Promise<void> {
    let events = batchEvents;
    if (ctx.kind === 'wait-behind') events = events.filter((e) => isLondisteEvent(e.type));
    const actx = applyContext(ctx, this.queue, this.log);
    const db = ctx.subscriber;
    for (const event of events) {
      const type = event.type;
      if (type === 'EXECUTE') {
        await this.tables.flush(actx);
        await replayExecute(db, this.queue, event, this.#tables, this.log);
        continue;
      }
      if (isLondisteEvent(type)) {
        await this.tables.flush(actx);
        await applyLondisteEvent(db, this.queue, event, this.settings, this.log);
        if (type === 'londiste.remove-table' && event.data !== null) {
          this.#tables.delete(event.data);
          this.tables.forget(event.data);
        }
        continue;
      }
      const wait = this.tables.apply(actx, event);
      if (wait) await wait;
    }
    // The block's rows go now: the provider reads the next block meanwhile (worker-batch.ts
    // fetches one ahead), so both servers work at once instead of in turn.
    await this.tables.flush(actx);
  }

  async #beforeCompleted(ctx: BatchContext): Promise<void> {
    await this.tables.finish(applyContext(ctx, this.queue, this.log));
    this.counts = this.tables.counts();
    for (const change of this.#states) {
      await setTableState(ctx.subscriber, this.queue, change.table, change.snapshot, change.state);
    }
    this.#states = [];
  }

  /** A branch forwards what the table's handler makes of each event (all of it by default). */
  #forward(event: Event) {
    const table = event.extra1 === null ? undefined : this.#tables.get(event.extra1);
    if (table === undefined) return event.row;
    const handler = this.tables.cache.handlerFor(table);
    return handler.forwardEvent === undefined ? event.row : handler.forwardEvent(event);
  }
}
