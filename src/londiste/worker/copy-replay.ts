/**
 * A copy process's replay after its copy (spec §6.4): only its table's events, from its own
 * position on the copy source, skipping those the copied data holds (visible in the copy's
 * snapshot). Caught up with the source's last tick W it asks for the handover
 * (`wanna-sync:W`) and waits; the main worker answers `do-sync:T` from its batch ending at
 * T >= W (whose events of this table it leaves alone). The copy applies up to exactly T and
 * sets `ok` in the transaction that completes T: every event is applied once, by the copy up
 * to T, by the main worker after it. A batch beyond T means the two got out of step: `Invalid
 * table state`.
 */
import type { BatchContext, CascadeWorkerHooks } from '../../cascade/worker-hooks.js';
import { quoteLiteral } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { Event } from '../../pgq/event.js';
import type { Logger } from '../../pgq/logger.js';
import { sleep } from '../../pgq/wakeup.js';
import { parseMergeState, type TableInfo } from '../table-state.js';
import { applyContext, TableReplay } from './handlers.js';
import { holdsCatchUp, restoreDroppedDdl } from './merge-copy.js';
import { replicaSession } from './replay.js';
import { TxidSnapshot } from './snapshot.js';
import { loadLocalTables, setTableState } from './tables.js';

/** How often a copy waiting for the main worker's answer reads the table's state. */
const handoverPollMs = 20;
/**
 * Events a catching-up copy's batch may span: every tick waiting, as a leaf's worker takes
 * them (a busy ticker makes dozens a second; one transaction each would never catch up).
 */
const catchUpMergeEvents = 20_000;
/** How often a partition's copy waiting for the others reads the states. */
const mergePollMs = 200;
/** A batch this close behind the source's last tick counts as caught up (ticker_max_lag). */
const handoverLagSeconds = 3;

export class CopyReplay {
  readonly tables: TableReplay;
  /** Set once the table is ok (or taken from this copy): the process ends after the commit. */
  finished = false;
  /** A state this copy cannot go on from: the process stops with it. */
  fatal: Error | null = null;
  #info: TableInfo | null = null;
  #snapshot: TxidSnapshot | null = null;
  /** This batch: skip its events (the handover tick was reached before it). */
  #skip = false;
  /** The state written with this batch, if any. */
  #next: string | null | undefined;
  /**
   * The table's state as this copy last saw or wrote it. Only this copy moves it on from
   * catching-up, so while it says catching-up no handover tick can be passed by merging.
   */
  #known: string | null = null;
  #inBatch = false;
  /** Events applied and skipped in all, and in the last batch (the stats line). */
  applied = 0;
  ignored = 0;
  lastCounts = { applied: 0, ignored: 0 };

  constructor(
    private readonly queue: string,
    private readonly table: string,
    private readonly log: Logger,
    /** The signal of the run in hand. */
    private readonly signal: () => AbortSignal,
    private readonly stop: () => void,
    handlerModules: readonly string[] = [],
    baseDir?: string,
    handlerConfig: Readonly<Record<string, string>> = {},
  ) {
    this.tables = new TableReplay(handlerModules, baseDir, handlerConfig);
  }

  hooks(): CascadeWorkerHooks {
    return {
      onConnect: async (session, role) => {
        if (role === 'subscriber') await replicaSession(session);
      },
      beforeBatch: (ctx) => this.#beforeBatch(ctx),
      eventFilter: () => `ev_extra1 = ${quoteLiteral(this.table)}`,
      applyEvents: (ctx, events) => this.#applyEvents(ctx, events),
      beforeCompleted: (ctx) => this.#beforeCompleted(ctx),
      afterCommit: () => {
        this.#inBatch = false;
        if (this.#next !== undefined) this.#known = this.#next;
        if (this.finished) this.stop();
      },
      // Once it has asked for the handover the copy goes one tick at a time: the tick the
      // main worker answers is one it must stop at exactly.
      helperMergeEvents: () => (this.#known === 'catching-up' ? catchUpMergeEvents : 0),
    };
  }

  /** The copy has just committed its data: its state is catching-up. */
  copied(): void {
    this.#known = 'catching-up';
  }

  #fail(message: string, context: Record<string, unknown>): never {
    const error = new SkytoolsError('LOST_POSITION', message, {
      queue: this.queue,
      table: this.table,
      ...context,
    });
    this.fatal = error;
    this.stop();
    throw error;
  }

  /** The table's row; null once it is no longer local (removed meanwhile). */
  async #load(ctx: BatchContext): Promise<TableInfo | null> {
    return (await loadLocalTables(ctx.subscriber, this.queue)).get(this.table) ?? null;
  }

  /** Removed from under the copy: nothing more to do but leave (unregistering). */
  #gone(): void {
    this.log.info({ table: this.table }, `${this.table} is no longer local here: copy ends`);
    this.#skip = true;
    this.finished = true;
  }

  async #beforeBatch(ctx: BatchContext): Promise<void> {
    await this.tables.loadModules();
    const failedBefore = this.#inBatch;
    this.#inBatch = true;
    this.#skip = false;
    this.#next = undefined;
    let info = await this.#load(ctx);
    // Waiting for the main worker's answer holds this batch: nothing is applied meanwhile.
    while (info !== null && parseMergeState(info.mergeState)?.kind === 'wanna-sync') {
      await sleep(handoverPollMs, this.signal());
      if (this.signal().aborted) throw new Error('copy stopped while waiting for the handover');
      info = await this.#load(ctx);
    }
    if (info === null) return this.#gone();
    info = await this.#mergeTurn(ctx, info);
    if (info === null) return this.#gone();
    const state = parseMergeState(info.mergeState);
    this.#known = state?.kind ?? null;
    this.#info = info;
    this.#snapshot = info.customSnapshot === null ? null : new TxidSnapshot(info.customSnapshot);
    this.tables.begin(new Map([[this.table, { info, snapshot: this.#snapshot }]]), failedBefore);
    const { tick, prevTick } = ctx.batch;
    switch (state?.kind) {
      case 'catching-up': {
        // Caught up: the batch ends at the source's last tick, or close behind it. A ticker
        // that ticks a busy queue many times a second leaves a copy no moment without a
        // waiting batch; the worker's do-sync:T lets it apply the rest up to exactly T.
        const last = await ctx.provider.query(
          `select last_tick_id::text as tick,
             extract(epoch from now() - $2::timestamptz - ticker_lag)::float8 as behind
           from pgq.get_queue_info($1)`,
          [this.queue, ctx.batch.tickTime],
        );
        const head = last.rows[0];
        if (head !== undefined && (head.tick === tick || head.behind <= handoverLagSeconds)) {
          this.#next = `wanna-sync:${tick}`;
        }
        return;
      }
      case 'do-sync': {
        const target = BigInt(state.tick);
        if (BigInt(prevTick) === target) {
          // Applied up to T already (T was the tick it asked for): ok, and this batch is
          // the main worker's.
          this.#skip = true;
          this.#next = 'ok';
        } else if (BigInt(tick) <= target) {
          if (BigInt(tick) === target) this.#next = 'ok';
        } else {
          this.#fail(
            `Invalid table state: copy of ${this.table} is at tick ${prevTick}, past the handover tick ${state.tick}`,
            { tick: prevTick, syncTick: state.tick },
          );
        }
        return;
      }
      case 'ok':
        this.log.info({ table: this.table }, `${this.table} is ok already: copy ends`);
        this.#skip = true;
        this.finished = true;
        return;
      default:
        this.#fail(
          `Invalid table state: ${this.table} is ${info.mergeState ?? 'NULL'} while its copy replays`,
          { state: info.mergeState },
        );
    }
  }

  /**
   * A table merged from several partitions (merge-copy.ts): the lead and the followers hold
   * their catch-up while any of them still copies, then the lead restores the indexes and
   * the followers wait for that. Nothing of the batch is applied meanwhile.
   */
  async #mergeTurn(ctx: BatchContext, first: TableInfo): Promise<TableInfo | null> {
    let info: TableInfo | null = first;
    let said = false;
    while (info !== null && info.mergeState === 'catching-up' && holdsCatchUp(info)) {
      if (!said) {
        this.log.info(
          { table: this.table, copyRole: info.copyRole },
          info.copyRole === 'lead' || info.droppedDdl !== null
            ? `${this.table}: waiting until every partition has copied`
            : `${this.table}: waiting until the lead partition has restored the indexes`,
        );
        said = true;
      }
      await sleep(mergePollMs, this.signal());
      if (this.signal().aborted) throw new Error('copy stopped while waiting for its partitions');
      info = await this.#load(ctx);
    }
    if (info?.mergeState === 'catching-up' && info.droppedDdl !== null) {
      await restoreDroppedDdl(ctx.subscriber, this.queue, info, this.log);
      info = await this.#load(ctx);
    }
    return info;
  }

  async #applyEvents(ctx: BatchContext, events: readonly Event[]): Promise<void> {
    if (this.#skip) return;
    const actx = applyContext(ctx, this.queue, this.log);
    for (const event of events) {
      // The filter brings this table's events only; EXECUTE is the main worker's.
      if (event.extra1 !== this.table || event.type === 'EXECUTE') continue;
      const wait = this.tables.apply(actx, event);
      if (wait) await wait;
    }
  }

  async #beforeCompleted(ctx: BatchContext): Promise<void> {
    await this.tables.finish(applyContext(ctx, this.queue, this.log));
    const counts = this.tables.counts();
    this.lastCounts = counts;
    this.applied += counts.applied;
    this.ignored += counts.ignored;
    if (this.#next === undefined) return;
    const info = this.#info as TableInfo;
    // The snapshot stays: the main worker filters with it until no batch can need it.
    await setTableState(ctx.subscriber, this.queue, this.table, info.customSnapshot, this.#next);
    if (this.#next === 'ok') {
      this.finished = true;
      this.log.info({ tick: ctx.batch.tick }, `${this.table}: ok, handed over to the worker`);
    } else {
      this.log.info({ tick: ctx.batch.tick }, `${this.table}: caught up, asks for the handover`);
    }
  }
}
