/**
 * The `scriptmgr` command (also `skytools scriptmgr`): `scriptmgr [options] config.ini
 * COMMAND [job ...]`. It runs as a job itself (its own pidfile and logfile from
 * `[scriptmgr]`, one at a time) and starts the jobs as daemons with their own bins.
 * Exit codes: 0 = done; 1 = bad input, unknown job, a failed start, or (status) some job
 * not running; 2 = a bug.
 */
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { Config, warnUnknownKeys } from '../config/index.js';
import { SkytoolsError } from '../errors.js';
import { type JobFlags, loadFailure, runJobProcess } from '../script/job-process.js';
import { reportFailure } from '../script/report-failure.js';
import {
  loadScriptmgr,
  ScriptManager,
  type ScriptmgrCommand,
  type ScriptmgrSettings,
  scriptmgrCommands,
  scriptmgrKeys,
} from '../scriptmgr/index.js';
import { toolVersion } from '../version.js';

interface Flags extends JobFlags {
  all?: boolean;
  type?: string;
  wait?: boolean;
}

function program(): Command {
  return new Command('scriptmgr')
    .description('start, stop and watch the jobs whose INI files config_list names')
    .usage('[options] config.ini COMMAND [job ...]')
    .argument('[config]', 'INI file with a [scriptmgr] section and one section per service')
    .argument('[command]', `one of: ${scriptmgrCommands.join(', ')}`)
    .argument('[jobs...]', 'job names (job_name of each job INI)')
    .option('-a, --all', 'all jobs')
    .option('-t, --type <service>', 'the jobs of one service')
    .option('-w, --wait', 'stop: wait until the jobs are gone')
    .option('-q, --quiet', 'no console log output')
    .option('-v, --verbose', 'more output', (_v, previous: number) => previous + 1, 0)
    .addOption(
      new Option('--log-format <format>', 'log line format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .version(toolVersion('scriptmgr'), '-V, --version', 'print the version and exit')
    .addHelpText(
      'after',
      '\nstatus: OK (running), STOPPED, DEAD (pidfile left by a process that is gone), pidfile? (none in its INI).\nManual: docs/scriptmgr.md.',
    )
    .showHelpAfterError()
    .exitOverride();
}

/** Run scriptmgr with `args` (without node and script); resolves with the exit code. */
export async function runScriptmgr(args: string[]): Promise<number> {
  const command = program();
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (error) {
    return reportFailure('scriptmgr', error);
  }
  const flags = command.opts<Flags>();
  const [configArg, commandArg, ...jobs] = command.args as [string?, string?, ...string[]];
  if (configArg === undefined) {
    process.stderr.write('need config file, use --help for help.\n');
    return 1;
  }
  if (commandArg === undefined) {
    process.stderr.write('need command\n');
    return 1;
  }
  if (!(scriptmgrCommands as readonly string[]).includes(commandArg)) {
    process.stderr.write(`unknown command: ${commandArg}\n`);
    return 1;
  }
  let settings: ScriptmgrSettings;
  const load = () => loadScriptmgr(configArg);
  try {
    settings = load();
  } catch (error) {
    return loadFailure('scriptmgr', error);
  }
  return runJobProcess({
    program: 'scriptmgr',
    settings,
    flags: { ...flags, daemon: false },
    load,
    daemon: { script: fileURLToPath(new URL('../../bin/scriptmgr.js', import.meta.url)), args },
    logBase: { job: settings.jobName },
    stopUnit: 'job',
    stoppedLine: `scriptmgr ${commandArg} done`,
    create(logger) {
      let stopping = false;
      const manager = new ScriptManager(settings, logger, {
        print: (line) => process.stdout.write(`${line}\n`),
        pause: (ms) =>
          stopping
            ? Promise.reject(new SkytoolsError('STOPPED', 'scriptmgr was stopped'))
            : new Promise((resolve) => setTimeout(resolve, ms)),
      });
      return {
        stop: () => {
          stopping = true;
        },
        reload: () => {},
        async run() {
          warnUnknownKeys(Config.load(settings.file, ['scriptmgr']), scriptmgrKeys, (line) =>
            logger.warn(line),
          );
          for (const warning of settings.warnings) logger.warn(warning);
          try {
            return await manager.run(commandArg as ScriptmgrCommand, jobs, flags);
          } catch (error) {
            if (!(error instanceof SkytoolsError)) throw error;
            logger.error(error.message);
            return 1;
          }
        },
      };
    },
  });
}
