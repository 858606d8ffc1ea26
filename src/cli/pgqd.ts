/**
 * The `pgqd` command (also `skytools pgqd`): upstream's switches and messages, on top of
 * src/ticker. Exit codes: 0 = stopped by SIGINT / done; 1 = bad config, refused start,
 * SIGTERM, or exit_after_failures reached; 2 = a bug.
 */
import { Command, Option } from 'commander';
import { type ControlFlags, controlSignal, sendControl } from '../script/control.js';
import { type JobFlags, loadFailure } from '../script/job-process.js';
import { loadPgqdSettings, type PgqdSettings, runPgqdJob, sampleIni } from '../ticker/index.js';
import { packageVersion } from '../version.js';
import { reportFailure } from './output.js';

interface PgqdFlags extends JobFlags, ControlFlags {
  ini?: boolean;
}

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
    return loadFailure('pgqd', error);
  }
  const control = controlSignal(flags);
  // upstream pgqd's texts.
  if (control) {
    return sendControl(settings.pidfile, control, {
      noPidfile: 'No pidfile configured',
      notRunning: 'Old process is not running',
    });
  }
  return runPgqdJob(settings, flags, configArg);
}
