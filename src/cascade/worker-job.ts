/**
 * The cascaded worker as a long-running job (`setadm CONFIG worker`, and a tool's worker or
 * copy helper built on the same description), with the switches and signals of every other
 * job (decisions.md): -d with pidfile, SIGINT = finish the batch and exit 0, SIGTERM = stop
 * now (the batch is read again later) and exit 1, SIGHUP = re-read the config and restart
 * the worker with it.
 */
import type { Logger } from 'pino';
import type { JobMetrics } from '../script/job-metrics.js';
import {
  type JobContext,
  type JobFiles,
  type JobFlags,
  jobFailure,
  type ProcessJob,
  runJobProcess,
  type StopMode,
} from '../script/job-process.js';
import { packageVersion } from '../version.js';
import { CascadedWorker, type CascadedWorkerOptions } from './cascaded-worker.js';
import { WorkerStatsLine } from './worker-stats-line.js';

/** What the job reads from a tool's settings (setadm's AdminSettings has it all). */
export interface WorkerJobSettings extends JobFiles {
  jobName: string;
  queue: string;
  /** The local node; undefined = the libpq environment. */
  nodeDb: string | undefined;
  extraConnstr: string;
  loopDelay: number;
  globalWmPublishPeriod: number | undefined;
  localWmPublishPeriod: number | undefined;
  /** Seconds between `{idle: S}` stats lines while no batch comes; 0 = none. */
  keepaliveStats: number;
  /** The worker's name on its provider (the metrics' consumer label); default jobName. */
  workerName?: string | undefined;
}

/** Makes the worker from the job's options (the tool adds its hooks or copy-helper mode). */
export type WorkerFactory<S> = (options: CascadedWorkerOptions, settings: S) => CascadedWorker;

export interface WorkerJobOptions<S extends WorkerJobSettings> {
  /** The tool's name in log and failure lines. */
  program: string;
  settings: S;
  flags: JobFlags;
  /** Read the settings again (SIGHUP). */
  load(): S;
  /** The bin and its arguments a daemon child runs (config, --set, ..., the command). */
  daemon: { script: string; args: string[] };
  /** What the job runs; what is started is the plain CascadedWorker if absent. */
  createWorker?: WorkerFactory<S>;
  /** The name in the start line and the application name (default `worker`). */
  role?: string;
}

const plainWorker = (options: CascadedWorkerOptions) => new CascadedWorker(options);

export function runWorkerJob<S extends WorkerJobSettings>(
  options: WorkerJobOptions<S>,
): Promise<number> {
  const { program, settings, flags } = options;
  const role = options.role ?? 'worker';
  return runJobProcess({
    program,
    settings,
    flags,
    load: options.load,
    daemon: options.daemon,
    logBase: { job: settings.jobName },
    stopUnit: 'batch',
    stoppedLine: `${program} ${role} stopped`,
    jobName: settings.jobName,
    create: (logger, metrics) => new WorkerJob(options, role, logger, metrics),
  });
}

/** The worker, restarted with the new settings after each reload. */
class WorkerJob<S extends WorkerJobSettings> implements ProcessJob<S> {
  #controller = new AbortController();
  #worker: CascadedWorker | undefined;
  #stopping: StopMode | undefined;
  #restart = false;
  #settings: S;

  constructor(
    private readonly options: WorkerJobOptions<S>,
    private readonly role: string,
    private readonly logger: Logger,
    private readonly metrics: JobMetrics,
  ) {
    this.#settings = options.settings;
  }

  stop(mode: StopMode): void {
    this.#stopping = this.#stopping === 'immediate' ? 'immediate' : mode;
    this.#controller.abort();
    // Stop now: closing the connections ends the batch in hand; it is read again later.
    if (mode === 'immediate') void this.#worker?.close().catch(() => {});
  }

  reload(settings: S): void {
    this.#settings = settings;
    this.#restart = true;
    this.#controller.abort();
  }

  async run(context: JobContext): Promise<number> {
    try {
      for (;;) {
        this.#restart = false;
        await this.#runOnce(this.#settings);
        if (this.#stopping !== undefined || !this.#restart) break;
        this.#controller = new AbortController();
        this.logger.info(`restarting the ${this.role} with the new config`);
      }
      return this.#stopping === 'immediate' ? 1 : 0;
    } catch (error) {
      if (this.#stopping === 'immediate') return 1;
      const { program, flags } = this.options;
      return jobFailure(program, this.#settings.jobName, context, flags.quiet, error);
    }
  }

  async #runOnce(current: S): Promise<void> {
    const { program } = this.options;
    const stats = new WorkerStatsLine(
      this.logger.child({ queue: current.queue }),
      current.keepaliveStats,
    );
    const workerOptions: CascadedWorkerOptions = {
      connection: current.nodeDb ?? {},
      queue: current.queue,
      extraConnstr: current.extraConnstr,
      loopDelay: current.loopDelay,
      globalWmPublishPeriod: current.globalWmPublishPeriod,
      localWmPublishPeriod: current.localWmPublishPeriod,
      logger: this.logger,
      applicationName: `${program} ${this.role} ${current.jobName}`,
      onBatch: (batch) => {
        stats.onBatch(batch);
        const { batch: _batch, tick: _tick, ...line } = batch;
        this.metrics.batch(
          { queue: current.queue, consumer: current.workerName ?? current.jobName },
          Object.fromEntries(
            Object.entries(line).filter(
              (entry): entry is [string, number] => typeof entry[1] === 'number',
            ),
          ),
        );
      },
    };
    this.#worker = (this.options.createWorker ?? plainWorker)(workerOptions, current);
    this.logger.info(`${program} ${packageVersion} ${this.role} starting: queue ${current.queue}`);
    stats.start();
    try {
      await this.#worker.run({ signal: this.#controller.signal });
    } finally {
      stats.stop();
    }
  }
}
