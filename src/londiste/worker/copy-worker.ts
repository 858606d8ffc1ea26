/**
 * A table's copy process (`londiste CONFIG copy TABLE`, spec §6.4) as a cascaded worker in
 * copy-helper mode: consumer `<worker>.copy.<table>`, registered on the copy source (the
 * provider, or the table's copy_node) at its current tick BEFORE the copy; the data copied
 * by copyTable with the state set to catching-up (and the copy's snapshot) in the copy's own
 * transaction; then the table's events replayed (copy-replay.ts) until the main worker takes
 * the table over; then the consumer unregistered and the process done.
 *
 * A copy killed at any point restarts cleanly: before its commit the table is still
 * in-copy (a new copy registers afresh and copies again, truncating first); after it, the
 * position and the state move together in each batch's transaction.
 */
import path from 'node:path';
import type pg from 'pg';
import { registerConsumerOn } from '../../cascade/cascaded-consumer.js';
import { CascadedWorker, type CascadedWorkerOptions } from '../../cascade/cascaded-worker.js';
import { CascadeError, getConsumerState, getNodeInfo } from '../../cascade/node-calls.js';
import { connectNode } from '../../cascade/node-connection.js';
import { openClient } from '../../db/connect.js';
import { SkytoolsError } from '../../errors.js';
import { silentLogger } from '../../pgq/logger.js';
import { sleep } from '../../pgq/wakeup.js';
import { cancelRunning } from '../copy/cancel.js';
import { analyzeTable, copyTable } from '../copy/copy-table.js';
import type { TableHandler } from '../handler.js';
import { parseMergeState, type TableInfo } from '../table-state.js';
import { CopyReplay } from './copy-replay.js';
import { replayBlockEvents } from './handlers.js';
import { mergeCopyPlan, storeDroppedDdl, waitCopyTurn } from './merge-copy.js';
import { replicaSession } from './replay.js';
import { RootTicker } from './root-ticks.js';
import {
  copyReadyTables,
  destOf,
  loadLocalTables,
  setTableState,
  workerTableAttrs,
} from './tables.js';

export interface CopyWorkerOptions extends CascadedWorkerOptions {
  /** The set's name of the table (`schema.name`). */
  table: string;
  /** The node worker's name (job_name): the copy's consumer is `<worker>.copy.<table>`. */
  workerName: string;
  /** Rows per second at most while copying (ours: --copy-rate). */
  rowsPerSecond?: number;
  /** handler_modules, and the directory relative module paths start from. */
  handlerModules?: readonly string[];
  baseDir?: string;
  /** The handlers' INI keys (settings.handlerConfig). */
  handlerConfig?: Readonly<Record<string, string>>;
}

/** What a copy takes from the node worker's INI, the same for a copy process and a task. */
export function copySettings(settings: {
  jobName: string;
  handlerModules: readonly string[];
  handlerConfig: Readonly<Record<string, string>>;
  file?: string | undefined;
}): Pick<CopyWorkerOptions, 'workerName' | 'handlerModules' | 'handlerConfig' | 'baseDir'> {
  return {
    workerName: settings.jobName,
    handlerModules: settings.handlerModules,
    handlerConfig: settings.handlerConfig,
    ...(settings.file === undefined ? {} : { baseDir: path.dirname(settings.file) }),
  };
}

/** The copy consumer's name of a table. */
export function copyConsumerName(workerName: string, table: string): string {
  return `${workerName}.copy.${table}`;
}

export class CopyWorker extends CascadedWorker {
  readonly replay: CopyReplay;
  readonly table: string;
  readonly #options: CopyWorkerOptions;
  readonly #consumer: string;
  readonly #ticker: RootTicker;
  readonly #stopper: { controller: AbortController };
  #doneEarly = false;
  /**
   * Work the copy left running while its catch-up starts (the ANALYZE of the copied table,
   * the tick forced on the root): awaited before the copy ends.
   */
  readonly #background: Promise<void>[] = [];
  /** The catch-up's sessions, opened while the data moves (openSessions never rejects). */
  #sessionsAhead: Promise<void> | null = null;

  constructor(options: CopyWorkerOptions) {
    const consumer = copyConsumerName(options.workerName, options.table);
    const log = options.logger ?? silentLogger;
    const ticker = new RootTicker(
      options.connection,
      options.queue,
      options.extraConnstr ?? '',
      log,
    );
    const stopper = { controller: new AbortController() };
    const replay = new CopyReplay(
      options.queue,
      options.table,
      log,
      () => stopper.controller.signal,
      () => stopper.controller.abort(),
      options.handlerModules,
      options.baseDir,
      options.handlerConfig,
    );
    const onBatch = options.onBatch;
    super({
      batchMaxEvents: replayBlockEvents,
      ...options,
      copyHelper: { consumer },
      hooks: replay.hooks(),
      onBatch:
        onBatch === undefined ? undefined : (stats) => onBatch({ ...stats, ...replay.lastCounts }),
    });
    this.replay = replay;
    this.table = options.table;
    this.#options = options;
    this.#consumer = consumer;
    this.#ticker = ticker;
    this.#stopper = stopper;
  }

  /**
   * Copy (when the table is in-copy), replay until the handover, unregister. Resolves when
   * done or stopped by `signal`; rejects when the table's state forbids going on.
   */
  override async run(options: { signal: AbortSignal }): Promise<void> {
    const controller = new AbortController();
    this.#stopper.controller = controller;
    const forward = () => controller.abort();
    options.signal.addEventListener('abort', forward);
    if (options.signal.aborted) controller.abort();
    let looped = false;
    try {
      const replay = await this.#prepare(controller.signal);
      await this.#sessionsAhead;
      if (replay) {
        looped = true;
        await super.run({ signal: controller.signal });
      }
      if (this.replay.fatal !== null) throw this.replay.fatal;
      if (this.replay.finished || this.#doneEarly) {
        await this.#unregister();
        this.log.info(
          { applied: this.replay.applied, skipped: this.replay.ignored },
          `copy of ${this.table} done`,
        );
      }
    } finally {
      options.signal.removeEventListener('abort', forward);
      await this.#sessionsAhead;
      // The loop closes its sessions when it ends; without a loop, those opened ahead.
      if (!looped) await this.close();
      await Promise.all(this.#background);
      await this.#ticker.close();
    }
  }

  override async runOnce(): Promise<boolean> {
    const busy = await super.runOnce();
    // Catching up with no batch: the tick that ends its catch-up may be far off otherwise.
    if (!busy && !this.replay.finished) await this.#ticker.force();
    return busy;
  }

  async #unregister(): Promise<void> {
    const local = await this.#localSession();
    try {
      if (!(await this.#registered(local))) return;
    } finally {
      await local.end().catch(() => {});
    }
    await this.unregister();
  }

  async #localSession(): Promise<pg.Client> {
    return openClient(this.#options.connection, {
      applicationName: `londiste copy ${this.table} (setup)`,
    });
  }

  async #registered(local: pg.ClientBase): Promise<boolean> {
    try {
      await getConsumerState(local, this.queue, this.#consumer);
      return true;
    } catch (error) {
      if (error instanceof CascadeError && error.context.retCode === 404) return false;
      throw error;
    }
  }

  /** Whether replay follows: the copy made now, or one made before that replay continues. */
  async #prepare(signal: AbortSignal): Promise<boolean> {
    const local = await this.#localSession();
    local.on('error', () => {});
    let keepOpen = false;
    try {
      const info = (await loadLocalTables(local, this.queue)).get(this.table);
      if (info === undefined) {
        throw new SkytoolsError(
          'MISSING_OBJECT',
          `table ${this.table} is not a local table of queue ${this.queue} here: nothing to copy`,
          { queue: this.queue, table: this.table },
        );
      }
      const state = parseMergeState(info.mergeState);
      switch (state?.kind) {
        case 'ok':
          this.log.info({ table: this.table }, `${this.table} is ok already: nothing to copy`);
          this.#doneEarly = true;
          return false;
        case 'new':
          this.log.warn(
            { table: this.table },
            `${this.table} is not marked for copy (state NULL): the worker starts its copy`,
          );
          return false;
        case 'in-copy': {
          const copied = await this.#copy(local, info, signal);
          if (copied) {
            this.#analyzeAfter(local, destOf(info), signal);
            keepOpen = true;
          }
          return copied && !signal.aborted;
        }
        default:
          if (await this.#registered(local)) return true;
          // Without its position the copy cannot know what it has applied: copy again.
          this.log.warn(
            { table: this.table },
            `${this.table} is ${info.mergeState} but its copy consumer is not registered: copying again`,
          );
          await setTableState(local, this.queue, this.table, null, null);
          return false;
      }
    } finally {
      if (!keepOpen) await local.end().catch(() => {});
    }
  }

  /**
   * The copied table's ANALYZE on the copy's local session once the data has committed,
   * while the catch-up replays (on sessions of its own): the table's state does not wait
   * for its statistics. A stop cancels it; then the session closes.
   */
  #analyzeAfter(local: pg.Client, destTable: string, signal: AbortSignal): void {
    const cancel = () => {
      void cancelRunning(local);
    };
    signal.addEventListener('abort', cancel);
    const started = performance.now();
    const analyzed = analyzeTable(local, destTable)
      .then(
        () =>
          this.log.info(
            { seconds: Number(((performance.now() - started) / 1000).toFixed(3)) },
            `${this.table}: analyzed`,
          ),
        (error: unknown) => {
          // Cancelled by a stop: the statistics come with the next ANALYZE or autovacuum.
          if (!signal.aborted) {
            this.log.warn({ err: error }, `${this.table}: ANALYZE after the copy failed`);
          }
        },
      )
      .finally(async () => {
        signal.removeEventListener('abort', cancel);
        await local.end().catch(() => {});
      });
    this.#background.push(analyzed);
  }

  /** The copy source: the table's copy_node, else the node's provider. */
  async #source(local: pg.ClientBase, info: TableInfo) {
    const node = await getNodeInfo(local, this.queue);
    const copyNode = workerTableAttrs(info.tableAttrs).copyNode;
    if (copyNode === null) {
      if (node.node_type === 'root') {
        throw new SkytoolsError(
          'CASCADE_REFUSED',
          `${this.table}: a root node copies no table (its tables are the source)`,
          { queue: this.queue, table: this.table },
        );
      }
      return {
        name: node.provider_node as string,
        location: node.provider_location as string,
        localNode: node.node_name,
      };
    }
    const { rows } = await local.query(
      'select node_location from pgq_node.get_queue_locations($1) where node_name = $2',
      [this.queue, copyNode],
    );
    const location = rows[0]?.node_location as string | undefined;
    if (location === undefined) {
      throw new SkytoolsError(
        'UNKNOWN_NODE',
        `${this.table}: copy_node ${copyNode} is no member of queue ${this.queue}`,
        { queue: this.queue, table: this.table, node: copyNode },
      );
    }
    return { name: copyNode, location, localNode: node.node_name };
  }

  /** False when no copy was made (stopped, or the table left in-copy meanwhile). */
  async #copy(local: pg.Client, info: TableInfo, signal: AbortSignal): Promise<boolean> {
    const source = await this.#source(local, info);
    // One source session checks the table there and then copies it; the local session of
    // the checks is the copy's destination: each session less is a connection less to wait for.
    const from = await connectNode(
      source.location,
      { queue: this.queue, node: source.name },
      {
        extraConnstr: this.#options.extraConnstr,
        applicationName: `londiste copy ${this.table} (source)`,
      },
    );
    from.on('error', () => {});
    try {
      await this.#waitSourceOk(from, source.name, signal);
      if (signal.aborted) return false;
      // A table merged from several partitions: this copy's turn and role among them.
      const turn = await waitCopyTurn(local, this.queue, this.table, signal, this.log);
      if (turn === null) {
        if (!signal.aborted) {
          this.log.info({ table: this.table }, `${this.table} is no longer in-copy: not copied`);
        }
        return false;
      }
      const plan = mergeCopyPlan(turn, workerTableAttrs(info.tableAttrs).skipTruncate);
      if (turn.copyRole !== null) {
        this.log.info(
          { table: this.table, copyRole: turn.copyRole },
          `${this.table}: copies as ${turn.copyRole === 'lead' ? 'the lead of its partitions' : 'a partition after the lead'}`,
        );
      }
      // A position left by a killed copy is dropped: the new copy's snapshot starts afresh.
      if (await this.#registered(local)) await this.unregister();
      // On the sessions at hand: two connections less before the data moves.
      const tick = await registerConsumerOn(
        local,
        from,
        this.queue,
        this.#consumer,
        source.localNode,
      );
      this.log.info({ tick, source: source.name }, `${this.table}: registered on ${source.name}`);
      // The catch-up's sessions connect while the data moves: its first batch need not wait.
      this.#sessionsAhead = this.openSessions();
      await this.replay.tables.loadModules();
      const handler = this.replay.tables.cache.handlerFor(info);
      await this.#copyData(from, local, info, handler, plan, signal);
    } finally {
      await from.end().catch(() => {});
    }
    // The catch-up need not wait for the root's connection: the tick is there by its first poll.
    this.#background.push(this.#ticker.force());
    return true;
  }

  async #copyData(
    from: pg.Client,
    dest: pg.Client,
    info: TableInfo,
    handler: TableHandler,
    plan: ReturnType<typeof mergeCopyPlan>,
    signal: AbortSignal,
  ): Promise<void> {
    await replicaSession(dest);
    const started = performance.now();
    const result = await copyTable({
      source: from,
      dest,
      table: this.table,
      destTable: destOf(info),
      handler,
      ...plan,
      rowsPerSecond: this.#options.rowsPerSecond,
      // After the commit (#analyzeAfter): the catch-up starts without waiting for it.
      analyze: false,
      log: this.log,
      signal,
      beforeCommit: async (db, copied) => {
        // A resync or remove-table meanwhile wins: this copy's data is not kept.
        const { rows } = await db.query(
          'select merge_state from londiste.table_info where queue_name = $1 and table_name = $2 and local for update',
          [this.queue, this.table],
        );
        if (rows[0]?.merge_state !== 'in-copy') {
          throw new SkytoolsError(
            'CASCADE_REFUSED',
            `${this.table}: state changed to ${rows[0]?.merge_state ?? 'not local'} during the copy; its data is not kept`,
            { queue: this.queue, table: this.table },
          );
        }
        if (plan.deferDdl) await storeDroppedDdl(db, this.queue, this.table, copied.ddl);
        await setTableState(db, this.queue, this.table, copied.snapshot, 'catching-up');
      },
    });
    this.replay.copied();
    const seconds = (performance.now() - started) / 1000;
    this.log.info(
      { rows: result.rows, bytes: result.bytes, seconds: Number(seconds.toFixed(3)) },
      `${this.table}: copied ${result.rows} rows, ${result.bytes} bytes in ${seconds.toFixed(1)} s; catching up`,
    );
  }

  async #waitSourceOk(source: pg.ClientBase, name: string, signal: AbortSignal) {
    let said = false;
    while (!signal.aborted) {
      if ((await copyReadyTables(source, this.queue)).has(this.table)) return;
      if (!said) {
        this.log.info(
          { table: this.table },
          `${this.table}: waiting until ${name} has the table ok`,
        );
        said = true;
      }
      await sleep(1000, signal);
    }
  }
}
