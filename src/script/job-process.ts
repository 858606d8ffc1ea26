/**
 * The process around a long-running job (pgqd, the consumer jobs, `setadm worker`), upstream
 * BaseScript's lifecycle in one place: `-d` re-spawns detached, the logger goes to the
 * logfile (and the console unless -q or daemon), SIGINT asks for a graceful stop, SIGTERM or a
 * second SIGINT for a stop now, SIGHUP re-reads the config and reopens the logfile, the
 * pidfile keeps one process per config. Each command brings only its job and its texts.
 */
import type { Logger } from 'pino';
import { SkytoolsError } from '../errors.js';
import { isDaemonChild, reportDaemonFailure, reportDaemonReady, spawnDaemon } from './daemon.js';
import { type HttpEndpoint, type ListenAddress, serveHttp } from './http-listen.js';
import { JobMetrics } from './job-metrics.js';
import { createScriptLogger, type LogFormat, levelFromFlags, type ScriptLogger } from './logger.js';
import { acquirePidfile, type Pidfile } from './pidfile.js';
import { reportFailure } from './report-failure.js';
import { installSignalHandlers } from './signals.js';
import type { SyslogOptions } from './syslog.js';

export interface JobFlags {
  quiet?: boolean;
  verbose: number;
  daemon?: boolean;
  logFormat: LogFormat;
}

/** The settings every job has, whatever its tool. */
export interface JobFiles {
  readonly pidfile: string | undefined;
  readonly logfile: string | undefined;
  /** `metrics_port`: serve the job's counters on /metrics there; undefined = not served. */
  readonly metricsListen?: ListenAddress | undefined;
}

export type StopMode = 'graceful' | 'immediate';

export interface JobContext {
  readonly logger: Logger;
  /** True once a stop now was asked for (SIGTERM, a second SIGINT): the exit code is 1. */
  readonly stoppedNow: boolean;
}

/** What a command runs inside the process; made once the logger exists. */
export interface ProcessJob<S> {
  /** After the signal was logged. */
  stop(mode: StopMode): void;
  /** A config re-read on SIGHUP, after the logfile was reopened. */
  reload(settings: S): void;
  /** Once the pidfile is ours; resolves with the exit code. */
  run(context: JobContext): Promise<number>;
}

export interface JobProcessOptions<S extends JobFiles> {
  /** The command's name in failure lines (`pgqd: error: ...`). */
  program: string;
  settings: S;
  flags: JobFlags;
  /** Read the config again (SIGHUP); a throw keeps the old one. */
  load(): S;
  /** The bin the daemon child runs, and its arguments before the common switches. */
  daemon: { script: string; args: string[] };
  /** Fields in every log line. */
  logBase?: Record<string, unknown>;
  /** Also log to syslog; a failing syslog is reported in the other outputs. */
  syslog?: Omit<SyslogOptions, 'onFailure'> | undefined;
  /** What a graceful stop finishes first: `stopping after the current <unit>`. */
  stopUnit: string;
  /** The last log line. */
  stoppedLine: string;
  /** The job's name in its metrics (default: the program). */
  jobName?: string;
  /** `metrics` gathers the job's counters; served when the settings have `metricsListen`. */
  create(logger: Logger, metrics: JobMetrics): ProcessJob<S>;
}

/** Run the job in this process, or with -d in a detached child; resolves with the exit code. */
export function runJobProcess<S extends JobFiles>(options: JobProcessOptions<S>): Promise<number> {
  if (options.flags.daemon && !isDaemonChild()) return daemonize(options);
  return runForeground(options);
}

async function daemonize<S extends JobFiles>(options: JobProcessOptions<S>): Promise<number> {
  const { program, settings, flags } = options;
  if (!settings.pidfile) {
    process.stderr.write(`${program}: error: Daemon needs pidfile\n`);
    return 1;
  }
  const args = [...options.daemon.args, '-d', '--log-format', flags.logFormat];
  if (flags.quiet) args.push('-q');
  for (let i = 0; i < flags.verbose; i++) args.push('-v');
  try {
    await spawnDaemon({ script: options.daemon.script, args, logfile: settings.logfile });
    return 0;
  } catch (error) {
    return reportFailure(program, error);
  }
}

async function runForeground<S extends JobFiles>(options: JobProcessOptions<S>): Promise<number> {
  const { program, settings, flags } = options;
  let log: ScriptLogger;
  try {
    log = createScriptLogger({
      // -q silences the console only; the logfile keeps info and above.
      level: levelFromFlags(false, flags.verbose),
      format: flags.logFormat,
      logfile: settings.logfile,
      console: !isDaemonChild() && !flags.quiet,
      base: options.logBase,
      syslog: options.syslog && {
        ...options.syslog,
        onFailure: (message) => log.logger.error(message),
      },
      // The operator's end of the pipe is gone (`pgqd x.ini | head`): stop as on SIGINT,
      // so the pidfile is removed; the logfile says why.
      onConsoleLost: (error) => {
        log.logger.warn(
          `console closed (${error.code ?? error.message}), stopping after the current ${options.stopUnit}`,
        );
        job?.stop('graceful');
      },
    });
  } catch (error) {
    return loadFailure(program, error);
  }
  const logger = log.logger;
  let job: ProcessJob<S> | undefined;
  const metrics = new JobMetrics(program, options.jobName ?? program);
  job = options.create(logger, metrics);
  let stoppedNow = false;
  const removeHandlers = installSignalHandlers({
    stop(mode, signal) {
      logger.info(
        mode === 'graceful'
          ? `Got ${signal}, stopping after the current ${options.stopUnit}`
          : `Got ${signal}, stopping at once`,
      );
      if (mode === 'immediate') stoppedNow = true;
      job.stop(mode);
    },
    reload() {
      logger.info('Got SIGHUP, re-reading config');
      let fresh: S;
      try {
        fresh = options.load();
      } catch (error) {
        logger.error(`reload failed, keeping the old config: ${(error as Error).message}`);
        return;
      }
      // logrotate moves the file away and sends SIGHUP: write to a fresh one.
      log.reopen();
      job.reload(fresh);
    },
  });
  // Handlers first: `x -d a.ini && x -r a.ini` may signal as soon as the pidfile exists.
  let pidfile: Pidfile | undefined;
  let endpoint: HttpEndpoint | undefined;
  try {
    if (settings.pidfile) pidfile = acquirePidfile(settings.pidfile);
    if (settings.metricsListen) {
      endpoint = await serveMetrics(metrics, settings.metricsListen, logger);
    }
  } catch (error) {
    removeHandlers();
    pidfile?.release();
    log.close();
    return loadFailure(program, error);
  }
  reportDaemonReady();
  let exitCode: number;
  try {
    exitCode = await job.run({
      logger,
      get stoppedNow() {
        return stoppedNow;
      },
    });
    // Before the pidfile goes: whoever waits for it to vanish finds the last line written.
    logger.info(options.stoppedLine);
  } finally {
    removeHandlers();
    await endpoint?.close();
    pidfile?.release();
  }
  log.close();
  return exitCode;
}

/** `metrics_port`: the counters on /metrics; a change of the key takes effect at restart. */
async function serveMetrics(
  metrics: JobMetrics,
  listen: ListenAddress,
  logger: Logger,
): Promise<HttpEndpoint> {
  const { prometheusView } = await import('./job-metrics-view.js');
  const render = prometheusView(metrics);
  const endpoint = await serveHttp(
    listen,
    async (url) => (url.pathname === '/metrics' ? render() : null),
    (error) => logger.warn(`metrics scrape failed: ${(error as Error).message}`),
  );
  logger.info(`metrics on ${endpoint.url}/metrics`);
  return endpoint;
}

/**
 * A start that failed before the job ran (bad config, pidfile taken): one line on stderr and,
 * in a daemon child, the same reason for the waiting parent to print.
 */
export function loadFailure(program: string, error: unknown): number {
  reportDaemonFailure((error as Error).message);
  return reportFailure(program, error);
}

/**
 * The job ended with an error: logged (`Job <name> stopped: <message>`, or the stack of a
 * bug), and with -q in the foreground also on stderr, since the console got no log lines.
 */
export function jobFailure(
  program: string,
  jobName: string,
  context: JobContext,
  quiet: boolean | undefined,
  error: unknown,
): number {
  context.logger.error(
    error instanceof SkytoolsError
      ? `Job ${jobName} stopped: ${error.message}`
      : String((error as Error)?.stack ?? error),
  );
  if (!isDaemonChild() && quiet) reportFailure(program, error);
  return error instanceof SkytoolsError ? 1 : 2;
}
