/**
 * The Londiste worker from its settings (`londiste CONFIG worker`): the cascaded worker with
 * Londiste's replay hooks (replay.ts), its copy processes (copy-launcher.ts), ticks forced on
 * the root while a copy is under way, and on the root the sequence values published each
 * loop (`londiste.root_check_seqs`, spec §6.7).
 */
import path from 'node:path';
import type pg from 'pg';
import { CascadedWorker, type CascadedWorkerOptions } from '../../cascade/cascaded-worker.js';
import type { WorkerFactory } from '../../cascade/worker-job.js';
import { openClient } from '../../db/connect.js';
import { childLogger, type Logger, silentLogger } from '../../pgq/logger.js';
import type { LondisteSettings } from '../settings.js';
import {
  CopyLauncher,
  copyRateArg,
  siblingCommandLine,
  type ToolCommandLine,
} from './copy-launcher.js';
import { type CopyStarter, CopyTasks } from './copy-tasks.js';
import { CopyWorker, copySettings } from './copy-worker.js';
import { replayBlockEvents } from './handlers.js';
import { Replay } from './replay.js';
import { RootTicker } from './root-ticks.js';

/** Seconds between the root's sequence checks at most. */
const seqCheckPeriodMs = 1000;

export interface LondisteWorkerOptions extends CascadedWorkerOptions {
  settings: Pick<
    LondisteSettings,
    | 'parallelCopies'
    | 'localOnly'
    | 'localOnlyDropExecute'
    | 'registerOnlyTables'
    | 'registerSkipTables'
    | 'registerOnlySeqs'
    | 'registerSkipSeqs'
    | 'pidfile'
    | 'logfile'
    | 'handlerModules'
    | 'handlerConfig'
    | 'file'
    | 'copyMode'
    | 'jobName'
  > &
    Partial<Pick<LondisteSettings, 'copyPrestart'>>;
  /**
   * How to start this tool's `copy TABLE` (the bin and the arguments naming the config);
   * null = no copy processes (tables wait in NULL). Default: this process's command line
   * when it is the londiste (or skytools) bin, else null.
   */
  copyCommand?: ToolCommandLine | null;
  /** Rows per second at most for copies run in this process (default: --copy-rate of argv). */
  copyRate?: number;
}

/**
 * Where table copies run: tasks of this process (`copy_mode = worker`), or a process each
 * (`copy_mode = process`, upstream's way, which needs the command line to start them).
 */
function copyStarter(options: LondisteWorkerOptions, log: Logger): CopyStarter | null {
  const settings = options.settings;
  if (settings.copyMode === 'worker' && options.copyCommand !== null) {
    const rowsPerSecond = options.copyRate ?? copyRateArg(siblingCommandLine()?.args ?? []);
    const copyLog = childLogger(log, { role: 'copy' });
    return new CopyTasks(
      (table) =>
        new CopyWorker({
          connection: options.connection,
          queue: options.queue,
          extraConnstr: options.extraConnstr,
          loopDelay: options.loopDelay,
          retryDelay: options.retryDelay,
          logger: childLogger(copyLog, { table }),
          table,
          rowsPerSecond,
          ...copySettings(settings),
        }),
      log,
    );
  }
  const command = options.copyCommand === undefined ? siblingCommandLine() : options.copyCommand;
  if (command === null) {
    log.warn(
      {},
      'no copy command (not run by the londiste bin, no copyCommand given): tables that need a copy wait',
    );
    return null;
  }
  return new CopyLauncher(
    command,
    settings.pidfile,
    settings.logfile,
    log,
    settings.copyPrestart ?? false,
  );
}

export class LondisteWorker extends CascadedWorker {
  readonly replay: Replay;
  readonly #ticker: RootTicker;
  readonly #copies: CopyStarter | null;
  readonly #connection: CascadedWorkerOptions['connection'];
  #side: pg.Client | null = null;
  #lastSeqCheck = 0;

  constructor(options: LondisteWorkerOptions) {
    const log = options.logger ?? silentLogger;
    const ticker = new RootTicker(
      options.connection,
      options.queue,
      options.extraConnstr ?? '',
      log,
    );
    const launcher = copyStarter(options, log);
    const settings = options.settings;
    const baseDir = settings.file === undefined ? undefined : path.dirname(settings.file);
    const replay = new Replay(options.queue, settings, launcher, log, baseDir);
    const onBatch = options.onBatch;
    super({
      // A leaf replays every waiting tick as one transaction: pgqd ticks a busy queue up to
      // 100 times a second, and one local commit per tick would cap replay far below it.
      // Large, as going from one batch to the next (finish, next batch, its sort on the
      // provider) leaves the local server idle; memory stays bounded by the blocks read.
      leafMergeEvents: 100_000,
      batchMaxEvents: replayBlockEvents,
      ...options,
      hooks: replay.hooks(),
      // The stats line carries what replay applied and ignored.
      onBatch:
        onBatch === undefined ? undefined : (stats) => onBatch({ ...stats, ...replay.counts }),
    });
    this.replay = replay;
    this.#ticker = ticker;
    this.#copies = launcher;
    this.#connection = options.connection;
  }

  override async run(options: { signal: AbortSignal }): Promise<void> {
    this.replay.signal = options?.signal;
    await super.run(options);
  }

  override async runOnce(): Promise<boolean> {
    const busy = await super.runOnce();
    // Idle with a copy under way: the copy may wait for a tick the ticker makes only later.
    if (!busy && this.replay.copying) await this.#ticker.force();
    if (!this.replay.copying) this.#copies?.idle?.();
    await this.#sideDuties();
    return busy;
  }

  /** The root's sequences published (root_check_seqs answers 402 elsewhere), each second. */
  async #sideDuties(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastSeqCheck < seqCheckPeriodMs) return;
    this.#lastSeqCheck = now;
    const side = await this.#sideSession();
    await side.query('select * from londiste.root_check_seqs($1)', [this.queue]);
  }

  async #sideSession(): Promise<pg.Client> {
    if (this.#side !== null) return this.#side;
    const client = await openClient(this.#connection, {
      applicationName: 'londiste worker (side)',
      onBroken: () => {
        if (this.#side === client) this.#side = null;
      },
    });
    this.#side = client;
    return client;
  }

  override async close(): Promise<void> {
    await this.#copies?.stop?.();
    await super.close();
    const side = this.#side;
    this.#side = null;
    await side?.end().catch(() => {});
    await this.#ticker.close();
  }
}

export const createLondisteWorker: WorkerFactory<LondisteSettings> = (options, settings) =>
  new LondisteWorker({ ...options, settings });
