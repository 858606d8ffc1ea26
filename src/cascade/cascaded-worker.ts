/**
 * The node's worker (§2.3): what it does on each loop follows the node's state as
 * pgq_node.get_worker_state reports it then, so role changes made under it by the admin
 * (promote, demote, change-provider) take effect on the next loop without a restart.
 * A tool built on it (Londiste) plugs in through hooks (worker-hooks.ts), and may run it as
 * a copy helper beside the node's worker (copy-helper.ts).
 */
import type pg from 'pg';
import { failureOf, fromDatabaseError } from '../db/database-error.js';
import { BlockSize } from '../pgq/block-size.js';
import { childLogger, type Logger, silentLogger } from '../pgq/logger.js';
import { sleep, Wakeup } from '../pgq/wakeup.js';
import { type CascadedBatchStats, reportBatch } from './batch-stats.js';
import { externalTickSql, finishBatchSql, providerTickSql, setUptodateSql } from './cascade-sql.js';
import { CopyHelper, helperLock } from './copy-helper.js';
import { LocalNode } from './local-node.js';
import {
  CascadeError,
  callRet,
  getNodeInfo,
  getWorkerState,
  type WorkerState,
} from './node-calls.js';
import { type ProviderBatchInfo, ProviderLink } from './provider-link.js';
import { recordError } from './record-error.js';
import { SyncWatermark } from './sync-watermark.js';
import { Period, publishGlobalWatermark, reportLocalWatermark } from './watermarks.js';
import {
  type Applied,
  applyBatch,
  applyBranchBatch,
  type CopyKind,
  type WorkerTarget,
} from './worker-batch.js';
import {
  type BatchContext,
  batchFilter,
  branchDecodes,
  type CascadeWorkerHooks,
  checkHooks,
} from './worker-hooks.js';
import {
  type CascadedWorkerOptions,
  type ResolvedCascadeOptions,
  resolveCommon,
} from './worker-options.js';

export type { CascadedWorkerOptions } from './worker-options.js';

/** Where the worker stands before a batch: the node's worker, or a copy helper. */
type Position = Pick<
  WorkerState,
  'worker_name' | 'node_name' | 'node_type' | 'completed_tick' | 'provider_node' | 'combined_queue'
>;

export class CascadedWorker {
  readonly options: ResolvedCascadeOptions;
  readonly log: Logger;
  readonly #local: LocalNode;
  readonly #provider: ProviderLink;
  readonly #wakeup = new Wakeup();
  readonly #sizes: BlockSize;
  readonly #globalWm: Period;
  readonly #localWm: Period;
  readonly #sync: SyncWatermark;
  readonly #hooks: CascadeWorkerHooks;
  readonly #helper: CopyHelper | null;
  /** Sessions the onConnect hook has seen (a new session gets it once). */
  #seenLocal: pg.Client | null = null;
  #seenProvider: pg.Client | null = null;
  /** Worker name and node type seen on the last loop (for messages and role changes). */
  #worker: string | null = null;
  #nodeType: string | null = null;
  #saidPaused = false;
  #running = false;
  /** close() was called: failures of the loop in hand are its doing. */
  #closing = false;
  /** The last loop failed reading the node's own state (connect or get_worker_state). */
  #stateFailed = false;
  #leafMergeEvents: number;

  constructor(options: CascadedWorkerOptions) {
    const { resolved, number, fail } = resolveCommon(options, {});
    this.options = resolved;
    const queue = resolved.queue;
    this.#hooks = checkHooks(options.hooks, fail);
    this.#helper = options.copyHelper === undefined ? null : new CopyHelper(options, fail);
    const helperName = this.#helper?.consumer;
    this.log = childLogger(
      options.logger ?? silentLogger,
      helperName === undefined ? { queue } : { queue, consumer: helperName },
    );
    this.#globalWm = new Period(
      number('globalWmPublishPeriod', options.globalWmPublishPeriod, 0, false) ?? 300,
    );
    this.#localWm = new Period(
      number('localWmPublishPeriod', options.localWmPublishPeriod, 0, false) ?? 300,
    );
    this.#leafMergeEvents = number('leafMergeEvents', options.leafMergeEvents, 0, true) ?? 0;
    const applicationName =
      resolved.applicationName ??
      (helperName === undefined
        ? `skytools cascaded worker ${queue}`
        : `skytools copy helper ${helperName}`);
    this.#local = new LocalNode(
      resolved.connection,
      applicationName,
      helperName === undefined
        ? {
            key: ['pgq_node.worker', queue],
            refusal: (pid) =>
              new CascadeError(
                'WORKER_LOCKED',
                `a cascaded worker for queue ${JSON.stringify(queue)} already runs on this database${pid === undefined ? '' : ` (backend pid ${pid})`}; only one may run at a time`,
                { queue, pid },
              ),
          }
        : helperLock(queue, helperName),
    );
    this.#worker = helperName ?? null;
    this.#provider = new ProviderLink(
      queue,
      { extraConnstr: resolved.extraConnstr, applicationName: `${applicationName} (provider)` },
      this.log,
      this.#wakeup,
    );
    this.#sizes = new BlockSize(resolved.batchMaxEvents, resolved.batchMaxBytes);
    this.#sync = new SyncWatermark(queue, resolved.extraConnstr, this.log);
  }

  get queue(): string {
    return this.options.queue;
  }

  /**
   * Loop until `signal` aborts. A batch in hand is applied and finished first (or, if the
   * process dies, applied again or only finished by the next run). Failed loops are logged
   * with their reason, stored in the node's cur_error, and tried again after retryDelay; when
   * the node itself cannot be used (dropped, its schema missing, access denied) the promise
   * rejects with that reason instead.
   */
  async run(options: { signal: AbortSignal }): Promise<void> {
    const signal = options?.signal;
    if (this.#running) {
      throw new CascadeError('ALREADY_RUNNING', 'this worker object is already running', {
        queue: this.queue,
      });
    }
    this.#running = true;
    try {
      while (!signal?.aborted) {
        let busy = false;
        try {
          busy = await this.runOnce();
        } catch (error) {
          if (this.#closing) break; // closed under the loop: an immediate stop
          // The node itself is gone or unusable (dropped, no schema, no access): no retry
          // helps, so the worker stops and says why. Anything else, the provider's failures
          // included (the admin may change the provider meanwhile), is tried again.
          if (this.#nodeUnusable(error)) throw error;
          this.log.error({ err: error }, 'worker loop failed; retrying');
          await sleep(this.options.retryDelayMs, signal);
          continue;
        }
        if (!busy) await this.#wakeup.wait(this.options.loopDelayMs, signal);
      }
    } finally {
      this.#running = false;
      await this.close();
    }
  }

  /**
   * One loop: read the node's state, acknowledge it (uptodate), and do what the node's type
   * asks. True when a batch was applied. A failure is stored in cur_error and rethrown.
   */
  async runOnce(): Promise<boolean> {
    this.#closing = false;
    try {
      return await this.#loop();
    } catch (error) {
      await this.#provider.close();
      // An error caused by close() (an immediate stop) is not the node's error, and a node
      // that cannot be used has no place to record it.
      if (!this.#closing && !this.#nodeUnusable(error)) {
        await recordError(this.#local, this.queue, this.#worker, error, this.log);
      }
      throw error;
    }
  }

  #nodeUnusable(error: unknown): boolean {
    return this.#stateFailed && !failureOf(error).transient;
  }

  /** The local node's session; a new one gets the onConnect hook first. */
  async #subscriber(): Promise<pg.Client> {
    const client = await this.#local.connect();
    if (client === this.#seenLocal) return client;
    try {
      await this.#hooks.onConnect?.(client, 'subscriber');
    } catch (error) {
      // A session the hook did not finish is not used: the next loop opens a new one.
      await this.#local.close();
      throw error;
    }
    this.#seenLocal = client;
    return client;
  }

  /** The provider's session; a new one gets the onConnect hook first. */
  async #providerSession(node: string, location: string): Promise<pg.Client> {
    const client = await this.#provider.connect(node, location);
    if (client === this.#seenProvider) return client;
    await this.#hooks.onConnect?.(client, 'provider'); // a throw closes it (runOnce)
    this.#seenProvider = client;
    return client;
  }

  async #loop(): Promise<boolean> {
    if (this.#helper !== null) return this.#helperLoop(this.#helper);
    this.#wakeup.clear();
    const { queue } = this;
    let state = await this.#state();
    // After the state: a node that cannot be reached fails inside #state, which tells a
    // permanent cause from a transient one.
    const local = await this.#subscriber();
    if (!state.uptodate) {
      // The admin's pause/resume waits for this acknowledgement. The state is read again
      // after it, so what this loop acts on is never older than what it acknowledged.
      const worker = state.worker_name;
      await callRet(local, setUptodateSql, [queue, worker], { queue, consumer: worker });
      state = await this.#state();
    }
    const worker = state.worker_name;
    if (state.paused) {
      if (!this.#saidPaused) this.log.info({ worker }, 'paused');
      this.#saidPaused = true;
      await this.#provider.close();
      return false;
    }
    this.#saidPaused = false;
    if (this.#nodeType !== state.node_type) await this.#roleChanged(state);
    if (state.node_type === 'root') {
      await this.#provider.close();
      if (this.#globalWm.due()) {
        await publishGlobalWatermark(local, queue, state.node_name, this.log);
        this.#globalWm.done();
      }
      await this.#clearError(state);
      return false;
    }
    const provider = await this.#providerSession(state.provider_node, state.provider_location);
    const kind = copyKind(state);
    if (kind === 'branch') await this.#restoreTick(state);
    // A leaf's ticks are its own business: several small ones may be one batch. A branch
    // keeps every tick of its provider (its own subscribers may stand at any of them).
    const info = await this.#provider.nextBatch(
      worker,
      kind === 'leaf' ? this.#leafMergeEvents : 0,
    );
    let busy = false;
    if (info !== null) busy = await this.#handleBatch(state, kind, info);
    if (this.#localWm.due()) {
      await this.#reportWatermark(state, provider);
      this.#localWm.done();
    }
    if (!busy) await this.#clearError(state);
    return busy;
  }

  /**
   * A copy helper's loop: its own position in the node (registered on the provider at the
   * first loop), the provider the node names, the tool's hooks; nothing of the node's state,
   * watermarks or ticks changes.
   */
  async #helperLoop(helper: CopyHelper): Promise<boolean> {
    const local = await this.#subscriber();
    this.#wakeup.clear();
    const state = await helper.state(local);
    if (state === null) {
      await this.#provider.close();
      return false;
    }
    await this.#providerSession(state.provider_node, state.provider_location);
    const info = await this.#provider.nextBatch(
      helper.consumer,
      this.#hooks.helperMergeEvents?.() ?? 0,
    );
    const busy =
      info !== null &&
      (await this.#handleBatch(
        { ...state, worker_name: helper.consumer, combined_queue: null },
        'copy-helper',
        info,
      ));
    if (!busy && state.cur_error !== null) {
      await recordError(this.#local, this.queue, helper.consumer, null, this.log);
    }
    return busy;
  }

  /**
   * Copy helper: unregister it from its provider and from the node (the helper's work is
   * done); closes the sessions.
   */
  async unregister(): Promise<void> {
    if (this.#helper === null) {
      throw new CascadeError('NOT_A_HELPER', 'only a copy helper unregisters itself', {
        queue: this.queue,
      });
    }
    await this.close();
    await this.#helper.unregister();
  }

  async #state(): Promise<WorkerState> {
    let state: WorkerState;
    this.#stateFailed = false;
    try {
      state = await getWorkerState(await this.#subscriber(), this.queue);
    } catch (error) {
      this.#stateFailed = true;
      if (error instanceof CascadeError && error.context.retCode === 404) {
        throw new CascadeError(
          'NODE_NOT_FOUND',
          `queue ${JSON.stringify(this.queue)} has no cascade node in this database (${error.context.retNote}); create the node first (skytools set create-root/create-branch/create-leaf)`,
          { queue: this.queue },
          { cause: error },
        );
      }
      throw fromDatabaseError(error, {
        action: 'reading the worker state',
        queue: this.queue,
        database: this.#local.name,
      });
    }
    this.#worker = state.worker_name;
    return state;
  }

  /** First loop, promote, demote: duties start afresh, node attributes are read again. */
  async #roleChanged(state: WorkerState): Promise<void> {
    if (this.#nodeType !== null) {
      this.log.info({ from: this.#nodeType, to: state.node_type }, 'node type changed');
    }
    this.#nodeType = state.node_type;
    this.#globalWm.reset();
    this.#localWm.reset();
    const node = await getNodeInfo(await this.#subscriber(), this.queue);
    await this.#sync.configure(node.node_attrs);
  }

  /**
   * One provider batch. It starts at the node's position: apply it. It ends there: it was
   * applied before a crash that came before the provider heard of it (its local tick, if
   * missing, was made again by restoreTick): only finish it. Anything else: Lost position.
   * True when the batch was applied or finished.
   */
  async #handleBatch(state: Position, kind: CopyKind, info: ProviderBatchInfo) {
    const worker = state.worker_name;
    const context = { queue: this.queue, node: state.node_name, consumer: worker };
    const completed = state.completed_tick;
    const started = performance.now();
    if (kind === 'wait-behind') {
      // The combined queue has merged this partition up to `completed` only: wait for it.
      if (Number(info.tick) > Number(completed)) return false;
    } else if (info.tick === completed) {
      await this.#finish(info);
      this.log.info({ batch: info.id, tick: info.tick }, 'batch applied before: finished only');
      this.#report(info, { read: 0, copied: 0 }, started);
      return true;
    } else if (info.prevTick !== completed) {
      throw new CascadeError(
        'LOST_POSITION',
        `Lost position: queue ${this.queue}, worker ${worker} on node ${state.node_name} is at tick ${completed}, but its next batch ${info.id} on provider ${state.provider_node} goes from tick ${info.prevTick} to ${info.tick}`,
        { ...context, completedTick: completed, prevTick: info.prevTick, tick: info.tick },
      );
    }
    const local = await this.#subscriber();
    const target = this.#target(state, kind);
    const hooks = this.#hooks;
    const ctx = this.#context(state, kind, info, local);
    await hooks.beforeBatch?.(ctx);
    let applied: Applied;
    if (kind === 'branch' && !branchDecodes(hooks)) {
      // The fast path: the provider's COPY bytes piped into the branch's queue.
      applied = await applyBranchBatch(local, this.#provider.client, info, target, {
        log: this.log,
        highWaterMark: Math.max(64 * 1024, Math.floor(this.options.batchMaxBytes / 2)),
      });
      // The tick comes after the copy's commit: a tick's snapshot does not see its own
      // transaction, so ticking inside it would push the batch's events into the next one.
      await this.#tick(info, applied.read > 0);
      await this.#finish(info);
    } else {
      const filter = batchFilter(hooks, ctx, kind);
      const batch = await this.#provider.openBatch(worker, info, this.#sizes, filter);
      try {
        applied = await applyBatch(local, batch, info, target, this.log, { hooks, ctx });
        if (kind === 'branch') await this.#tick(info, applied.read > 0);
      } catch (error) {
        await batch.abandon();
        throw error;
      }
      // Ends the read's own transaction on the provider too.
      await batch.finish();
    }
    if (applied.globalWatermark !== null) this.#sync.remember(applied.globalWatermark);
    this.log.debug(
      { batch: info.id, tick: info.tick, read: applied.read, copied: applied.copied },
      'batch applied',
    );
    const stats = this.#report(info, applied, started);
    await hooks.afterCommit?.(ctx, stats);
    return true;
  }

  #context(state: Position, kind: CopyKind, info: ProviderBatchInfo, local: pg.Client) {
    return {
      queue: this.queue,
      node: state.node_name,
      nodeType: state.node_type,
      kind,
      consumer: state.worker_name,
      providerNode: state.provider_node,
      batch: { id: info.id, tick: info.tick, prevTick: info.prevTick, tickTime: info.tickTime },
      subscriber: local,
      provider: this.#provider.client,
      log: this.log,
    } satisfies BatchContext;
  }

  #report(
    info: ProviderBatchInfo,
    applied: Pick<Applied, 'read' | 'copied'>,
    started: number,
  ): CascadedBatchStats {
    const stats = {
      batch: info.id,
      tick: info.tick,
      count: applied.read,
      copied: applied.copied,
      duration: (performance.now() - started) / 1000,
    };
    reportBatch(this.options.onBatch, stats, this.log);
    return stats;
  }

  /** Tell the provider the batch is done (only after the local commit: see handleBatch). */
  async #finish(info: ProviderBatchInfo): Promise<void> {
    await this.#provider.client.query(finishBatchSql, [info.id]);
  }

  #target(state: Position, kind: CopyKind): WorkerTarget {
    return {
      queue: this.queue,
      node: state.node_name,
      nodeType: state.node_type,
      worker: state.worker_name,
      kind,
      combinedQueue: state.combined_queue,
      syncWatermark: this.#sync.active,
    };
  }

  /** The provider's tick made again here, after the copy committed (see worker-batch.ts). */
  async #tick(info: ProviderBatchInfo, notify: boolean): Promise<void> {
    const local = await this.#subscriber();
    await local.query(externalTickSql, [
      this.queue,
      info.tick,
      info.tickTimeText,
      info.tickEventSeq,
    ]);
    if (notify) await local.query("select pg_catalog.pg_notify('pgq_tick', $1)", [this.queue]);
  }

  /** The local queue lacks the tick the worker completed: the process died before making it. */
  async #restoreTick(state: WorkerState): Promise<void> {
    const top = state.local_queue_top;
    if (top === null || Number(top) >= Number(state.completed_tick)) return;
    const { rows } = await this.#provider.client.query<{
      tick_id: string;
      tick_time: string;
      tick_event_seq: string;
    }>(providerTickSql, [this.queue, state.completed_tick]);
    const tick = rows[0];
    if (tick === undefined) {
      throw new CascadeError(
        'TICK_MISSING',
        `queue ${this.queue}: node ${state.node_name} completed tick ${state.completed_tick} but has no such tick, and provider ${state.provider_node} has none either`,
        { queue: this.queue, node: state.node_name, tick: state.completed_tick },
      );
    }
    const local = await this.#subscriber();
    await local.query(externalTickSql, [
      this.queue,
      tick.tick_id,
      tick.tick_time,
      tick.tick_event_seq,
    ]);
    this.log.warn({ tick: tick.tick_id }, 'tick missing after a crash: made it again');
  }

  async #reportWatermark(state: WorkerState, provider: pg.Client): Promise<void> {
    const local = await this.#subscriber();
    const node = await getNodeInfo(local, this.queue);
    await this.#sync.configure(node.node_attrs);
    if (this.#sync.active) {
      // Report where this node's batches start, and keep its own global watermark in step
      // with the peers it must be able to replace.
      await reportLocalWatermark(
        provider,
        this.queue,
        state.node_name,
        state.completed_tick,
        this.log,
      );
      await this.#sync.apply(local, state);
      return;
    }
    if (state.local_watermark !== null) {
      await reportLocalWatermark(
        provider,
        this.queue,
        state.node_name,
        state.local_watermark,
        this.log,
      );
    }
  }

  async #clearError(state: WorkerState): Promise<void> {
    if (state.cur_error === null) return;
    await recordError(this.#local, this.queue, state.worker_name, null, this.log);
  }

  /**
   * Open the sessions the first loop uses (the local node's with its hook; in copy-helper
   * mode also the provider's its position names), so that loop does not wait for connects:
   * a Londiste copy opens them while its data moves. Call it before run(), not during; a
   * failure closes what it opened and is left to the loop, which connects again.
   */
  async openSessions(): Promise<void> {
    try {
      const local = await this.#subscriber();
      const state = await this.#helper?.state(local);
      if (state) await this.#providerSession(state.provider_node, state.provider_location);
    } catch (error) {
      this.log.debug({ err: error }, 'sessions not opened ahead; the loop connects');
      await this.close();
    }
  }

  /** Close both sessions; the worker can run again later. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.#provider.close();
    await this.#local.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function copyKind(state: WorkerState): CopyKind {
  if (state.node_type === 'branch') return 'branch';
  if (state.combined_queue === null) return 'leaf';
  return state.combined_type === 'branch' ? 'wait-behind' : 'merge';
}
