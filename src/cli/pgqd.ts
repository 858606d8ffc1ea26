/**
 * The `pgqd` command (also `skytools pgqd`): upstream's switches and messages, on top of
 * src/ticker. Exit codes: 0 = stopped by SIGINT / done; 1 = bad config, refused start,
 * SIGTERM, or exit_after_failures reached; 2 = a bug.
 */
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
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
  signalPidfile,
  spawnDaemon,
} from '../script/index.js';
import { loadPgqdSettings, Pgqd, type PgqdSettings, sampleIni } from '../ticker/index.js';
import { packageVersion } from '../version.js';
import { reportFailure } from './output.js';

interface PgqdFlags {
  quiet?: boolean;
  verbose: number;
  daemon?: boolean;
  stop?: boolean;
  kill?: boolean;
  reload?: boolean;
  ini?: boolean;
  logFormat: LogFormat;
}

const binScript = fileURLToPath(new URL('../../bin/pgqd.js', import.meta.url));

export function pgqdProgram(): Command {
  return new Command('pgqd')
    .description(
      'PgQ ticker and maintenance daemon: ticks every queue and runs maintenance in every ' +
        'database that has pgq. Connections honour PGHOST, PGPORT, PGUSER, PGPASSWORD, PGPASSFILE.',
    )
    .usage('[-qvd] config.ini | [-skr] config.ini | --ini | -V')
    .argument('[config]', 'INI file with a [pgqd] section')
    .option('-q, --quiet', 'no console output (the logfile still gets every line)')
    .option(
      '-v, --verbose',
      'more output (-vv: trace)',
      (_value, previous: number) => previous + 1,
      0,
    )
    .option('-d, --daemon', 'run in the background (needs pidfile)')
    .option('-s, --stop', 'stop the running pgqd gracefully (SIGINT)')
    .option('-k, --kill', 'stop the running pgqd at once (SIGTERM)')
    .option('-r, --reload', 'make the running pgqd re-read its config (SIGHUP)')
    .option('--ini', 'print a sample config file and exit')
    .addOption(
      new Option('--log-format <format>', 'log line format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .version(`pgqd version ${packageVersion}`, '-V, --version', 'print the version and exit')
    .addHelpText(
      'after',
      '\nEvery config key with its default: pgqd --ini. Signals: SIGINT graceful stop, ' +
        'SIGTERM immediate stop, SIGHUP reload.\nTicks end with NOTIFY pgq_tick (payload: the ' +
        'queue name). Manual: docs/pgqd.md.',
    )
    .showHelpAfterError()
    .exitOverride();
}

/** Run pgqd with `args` (without node and script); resolves with the exit code. */
export async function runPgqd(args: string[]): Promise<number> {
  const program = pgqdProgram();
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    return reportFailure('pgqd', error);
  }
  const flags = program.opts<PgqdFlags>();
  const configArg = program.args[0];
  if (flags.ini) {
    process.stdout.write(sampleIni);
    return 0;
  }
  if (configArg === undefined) {
    process.stderr.write('need config file, use --help for help.\n');
    return 1;
  }
  let settings: PgqdSettings;
  try {
    settings = loadPgqdSettings(configArg);
  } catch (error) {
    reportDaemonFailure((error as Error).message);
    return reportFailure('pgqd', error);
  }
  const control = flags.stop ? 'SIGINT' : flags.kill ? 'SIGTERM' : flags.reload ? 'SIGHUP' : null;
  if (control) return sendControl(settings, control);
  if (flags.daemon && !isDaemonChild()) return daemonize(settings, flags, configArg);
  return runForeground(settings, flags);
}

function sendControl(settings: PgqdSettings, signal: NodeJS.Signals): number {
  if (!settings.pidfile) {
    process.stderr.write('No pidfile configured\n');
    return 1;
  }
  if (signalPidfile(settings.pidfile, signal) === 'not-running') {
    process.stderr.write('Old process is not running\n');
    return 1;
  }
  process.stdout.write(`${signal} sent\n`);
  return 0;
}

async function daemonize(settings: PgqdSettings, flags: PgqdFlags, config: string) {
  if (!settings.pidfile) {
    process.stderr.write('pgqd: error: Daemon needs pidfile\n');
    return 1;
  }
  const args = [config, '-d', '--log-format', flags.logFormat];
  if (flags.quiet) args.push('-q');
  for (let i = 0; i < flags.verbose; i++) args.push('-v');
  try {
    await spawnDaemon({ script: binScript, args, logfile: settings.logfile });
    return 0;
  } catch (error) {
    return reportFailure('pgqd', error);
  }
}

async function runForeground(settings: PgqdSettings, flags: PgqdFlags): Promise<number> {
  const daemonChild = isDaemonChild();
  const log = createScriptLogger({
    // -q silences the console only; the logfile keeps info and above.
    level: levelFromFlags(false, flags.verbose),
    format: flags.logFormat,
    logfile: settings.logfile,
    console: !daemonChild && !flags.quiet,
    syslog: settings.syslog
      ? {
          ident: settings.syslogIdent,
          facility: settings.syslogFacility,
          // Another socket than the system's (a chroot, a test's own receiver).
          socket: process.env.SKYTOOLS_SYSLOG_SOCKET,
          onFailure: (message) => log.logger.error(message),
        }
      : undefined,
  });
  const daemon = new Pgqd(settings, { logger: log.logger });
  let exitCode = 0;
  const removeHandlers = installSignalHandlers({
    stop(mode, signal) {
      log.logger.info(
        mode === 'graceful'
          ? `Got ${signal}, stopping after the current step`
          : `Got ${signal}, stopping at once`,
      );
      if (mode === 'immediate') exitCode = 1;
      void daemon.stop({ immediate: mode === 'immediate' });
    },
    reload() {
      log.logger.info('Got SIGHUP, re-reading config');
      try {
        settings = loadPgqdSettings(settings.file);
      } catch (error) {
        log.logger.error(`reload failed, keeping the old config: ${(error as Error).message}`);
        return;
      }
      // logrotate moves the file away and sends SIGHUP: write to a fresh one.
      log.reopen();
      daemon.reload(settings);
    },
  });
  // Handlers first: `pgqd -d x.ini && pgqd -r x.ini` may signal as soon as the pidfile exists.
  let pidfile: Pidfile | undefined;
  try {
    if (settings.pidfile) pidfile = acquirePidfile(settings.pidfile);
  } catch (error) {
    removeHandlers();
    log.close();
    reportDaemonFailure((error as Error).message);
    return reportFailure('pgqd', error);
  }
  reportDaemonReady();
  log.logger.info(`pgqd ${packageVersion} starting`);
  try {
    await daemon.start();
  } catch (error) {
    exitCode = error instanceof SkytoolsError ? 1 : 2;
    if (!(error instanceof SkytoolsError)) log.logger.fatal(String((error as Error).stack));
  } finally {
    removeHandlers();
    pidfile?.release();
  }
  log.logger.info('pgqd stopped');
  log.close();
  return exitCode;
}
