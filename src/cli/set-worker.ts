/**
 * `setadm CONFIG worker`: the node's CascadedWorker as a long-running job, with the switches
 * and signals of every other job (decisions.md): -d with pidfile, SIGINT = finish the batch
 * and exit 0, SIGTERM = stop now (the batch is read again later) and exit 1, SIGHUP = re-read
 * the config and restart the worker with it.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { AdminSettings } from '../cascade/admin/settings.js';
import { CascadedWorker } from '../cascade/cascaded-worker.js';
import {
  type JobContext,
  type JobFlags,
  jobFailure,
  type ProcessJob,
  runJobProcess,
  type StopMode,
} from '../script/job-process.js';
import { packageVersion } from '../version.js';
import { WorkerStatsLine } from './set-worker-stats.js';

export interface WorkerFlags extends JobFlags {
  /** The arguments to hand to the daemon child (config, --set, --db, --queue). */
  childArgs: string[];
}

const binScript = fileURLToPath(new URL('../../bin/setadm.js', import.meta.url));

export function runWorker(
  program: string,
  settings: AdminSettings,
  flags: WorkerFlags,
  reload: () => AdminSettings,
): Promise<number> {
  return runJobProcess({
    program,
    settings,
    flags,
    load: reload,
    daemon: { script: binScript, args: [...flags.childArgs, 'worker'] },
    logBase: { job: settings.jobName },
    stopUnit: 'batch',
    stoppedLine: `${program} worker stopped`,
    create: (logger) => new WorkerJob(program, settings, flags, logger),
  });
}

/** The worker, restarted with the new settings after each reload. */
class WorkerJob implements ProcessJob<AdminSettings> {
  #controller = new AbortController();
  #worker: CascadedWorker | undefined;
  #stopping: StopMode | undefined;
  #restart = false;

  constructor(
    private readonly program: string,
    private settings: AdminSettings,
    private readonly flags: WorkerFlags,
    private readonly logger: Logger,
  ) {}

  stop(mode: StopMode): void {
    this.#stopping = this.#stopping === 'immediate' ? 'immediate' : mode;
    this.#controller.abort();
    // Stop now: closing the connections ends the batch in hand; it is read again later.
    if (mode === 'immediate') void this.#worker?.close().catch(() => {});
  }

  reload(settings: AdminSettings): void {
    this.settings = settings;
    this.#restart = true;
    this.#controller.abort();
  }

  async run(context: JobContext): Promise<number> {
    try {
      for (;;) {
        this.#restart = false;
        await this.#runOnce(this.settings);
        if (this.#stopping !== undefined || !this.#restart) break;
        this.#controller = new AbortController();
        this.logger.info('restarting the worker with the new config');
      }
      return this.#stopping === 'immediate' ? 1 : 0;
    } catch (error) {
      if (this.#stopping === 'immediate') return 1;
      return jobFailure(this.program, this.settings.jobName, context, this.flags.quiet, error);
    }
  }

  async #runOnce(current: AdminSettings): Promise<void> {
    const stats = new WorkerStatsLine(
      this.logger.child({ queue: current.queue }),
      current.keepaliveStats,
    );
    this.#worker = new CascadedWorker({
      connection: current.nodeDb ?? {},
      queue: current.queue,
      extraConnstr: current.extraConnstr,
      loopDelay: current.loopDelay,
      globalWmPublishPeriod: current.globalWmPublishPeriod,
      localWmPublishPeriod: current.localWmPublishPeriod,
      logger: this.logger,
      applicationName: `${this.program} worker ${current.jobName}`,
      onBatch: stats.onBatch,
    });
    this.logger.info(`${this.program} ${packageVersion} worker starting: queue ${current.queue}`);
    stats.start();
    try {
      await this.#worker.run({ signal: this.#controller.signal });
    } finally {
      stats.stop();
    }
  }
}
