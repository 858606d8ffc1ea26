/**
 * `setadm CONFIG worker`: the node's CascadedWorker as a long-running job, with the switches
 * and signals of every other job (decisions.md): -d with pidfile, SIGINT = finish the batch
 * and exit 0, SIGTERM = stop now (the batch is read again later) and exit 1, SIGHUP = re-read
 * the config and restart the worker with it.
 */
import { fileURLToPath } from 'node:url';
import type { AdminSettings } from '../cascade/admin/settings.js';
import { CascadedWorker } from '../cascade/cascaded-worker.js';
import { SkytoolsError } from '../errors.js';
import {
  acquirePidfile,
  createScriptLogger,
  installSignalHandlers,
  isDaemonChild,
  type LogFormat,
  levelFromFlags,
  type Pidfile,
  reportDaemonFailure,
  reportDaemonReady,
  spawnDaemon,
} from '../script/index.js';
import { packageVersion } from '../version.js';
import { reportFailure } from './output.js';
import { WorkerStatsLine } from './set-worker-stats.js';

export interface WorkerFlags {
  quiet?: boolean;
  verbose: number;
  daemon?: boolean;
  logFormat: LogFormat;
  /** The arguments to hand to the daemon child (config, --set, --db, --queue). */
  childArgs: string[];
}

const binScript = fileURLToPath(new URL('../../bin/setadm.js', import.meta.url));

export async function runWorker(
  program: string,
  settings: AdminSettings,
  flags: WorkerFlags,
  reload: () => AdminSettings,
): Promise<number> {
  if (flags.daemon && !isDaemonChild()) {
    if (!settings.pidfile) {
      process.stderr.write(`${program}: error: Daemon needs pidfile\n`);
      return 1;
    }
    const args = [...flags.childArgs, 'worker', '-d', '--log-format', flags.logFormat];
    if (flags.quiet) args.push('-q');
    for (let i = 0; i < flags.verbose; i++) args.push('-v');
    try {
      await spawnDaemon({ script: binScript, args, logfile: settings.logfile });
      return 0;
    } catch (error) {
      return reportFailure(program, error);
    }
  }
  const log = createScriptLogger({
    level: levelFromFlags(false, flags.verbose),
    format: flags.logFormat,
    logfile: settings.logfile,
    console: !isDaemonChild() && !flags.quiet,
    base: { job: settings.jobName },
  });
  const logger = log.logger;
  let current = settings;
  let controller = new AbortController();
  let worker: CascadedWorker | undefined;
  let stopping: 'graceful' | 'immediate' | undefined;
  let restart = false;
  const removeHandlers = installSignalHandlers({
    stop(mode, signal) {
      logger.info(
        mode === 'graceful'
          ? `Got ${signal}, stopping after the current batch`
          : `Got ${signal}, stopping at once`,
      );
      stopping = stopping === 'immediate' ? 'immediate' : mode;
      controller.abort();
      // Stop now: closing the connections ends the batch in hand; it is read again later.
      if (mode === 'immediate') void worker?.close().catch(() => {});
    },
    reload() {
      logger.info('Got SIGHUP, re-reading config');
      try {
        current = reload();
      } catch (error) {
        logger.error(`reload failed, keeping the old config: ${(error as Error).message}`);
        return;
      }
      log.reopen();
      restart = true;
      controller.abort();
    },
  });
  let pidfile: Pidfile | undefined;
  try {
    if (settings.pidfile) pidfile = acquirePidfile(settings.pidfile);
  } catch (error) {
    removeHandlers();
    log.close();
    reportDaemonFailure((error as Error).message);
    return reportFailure(program, error);
  }
  reportDaemonReady();
  let exitCode = 0;
  try {
    for (;;) {
      restart = false;
      const stats = new WorkerStatsLine(
        logger.child({ queue: current.queue }),
        current.keepaliveStats,
      );
      worker = new CascadedWorker({
        connection: current.nodeDb ?? {},
        queue: current.queue,
        extraConnstr: current.extraConnstr,
        loopDelay: current.loopDelay,
        globalWmPublishPeriod: current.globalWmPublishPeriod,
        localWmPublishPeriod: current.localWmPublishPeriod,
        logger,
        applicationName: `${program} worker ${current.jobName}`,
        onBatch: stats.onBatch,
      });
      logger.info(`${program} ${packageVersion} worker starting: queue ${current.queue}`);
      stats.start();
      try {
        await worker.run({ signal: controller.signal });
      } finally {
        stats.stop();
      }
      if (stopping !== undefined || !restart) break;
      controller = new AbortController();
      logger.info('restarting the worker with the new config');
    }
    if (stopping === 'immediate') exitCode = 1;
  } catch (error) {
    exitCode = stopping === 'immediate' ? 1 : error instanceof SkytoolsError ? 1 : 2;
    if (stopping !== 'immediate') {
      logger.error(
        error instanceof SkytoolsError
          ? `Job ${current.jobName} stopped: ${error.message}`
          : String((error as Error)?.stack ?? error),
      );
      if (!isDaemonChild() && flags.quiet) reportFailure(program, error);
    }
  } finally {
    removeHandlers();
    pidfile?.release();
  }
  logger.info(`${program} worker stopped`);
  log.close();
  return exitCode;
}
