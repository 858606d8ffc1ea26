/**
 * The command line every consumer job shares (upstream BaseScript's switches): config file,
 * -q/-v, -d with pidfile, -s/-k/-r control, --ini, --set KEY=VALUE, --log-format,
 * --register/--unregister, plus tool-specific one-shot commands. Exit codes: 0 = done or
 * stopped by SIGINT; 1 = bad input, refused start, a fatal job error or SIGTERM; 2 = a bug.
 */
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { Config, warnUnknownKeys } from '../config/index.js';
import { DatabaseFailure } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';
import { Consumer } from '../pgq/index.js';
import { type ControlFlags, controlSignal, sendControl } from '../script/control.js';
import {
  type JobContext,
  type JobFlags,
  jobFailure,
  loadFailure,
  runJobProcess,
} from '../script/job-process.js';
import { createScriptLogger, levelFromFlags } from '../script/logger.js';
import { parseOverrides, withOverrides } from '../script/overrides.js';
import { reportFailure } from '../script/report-failure.js';
import { packageVersion, toolVersion } from '../version.js';
import { ConsumerJob, type ProcessorFactory, type SourceFactory } from './consumer-job.js';
import type { JobSettings } from './job-settings.js';

/** A one-shot command of one tool (e.g. `--reset`): runs instead of the job. */
export interface ToolCommand<S extends JobSettings> {
  flag: string;
  description: string;
  run(settings: S, log: Logger): Promise<string>;
}

export interface ConsumerTool<S extends JobSettings> {
  /** The bin name, e.g. `simple_consumer`; its section may also carry upstream's `3`. */
  name: string;
  description: string;
  sampleIni: string;
  /** The docs page named in --help; docs/simple-consumer.md by default. */
  manual?: string;
  /** Keys the tool reads; others are reported as ignored. */
  keys: string[];
  load(cf: Config): S;
  processor: ProcessorFactory<S>;
  /** The library consumer that reads the batches; a plain Consumer by default. */
  source?: SourceFactory<S>;
  commands?: ToolCommand<S>[];
  /**
   * What --register / --unregister act on; a plain Consumer by default. A kind with a
   * target (SerialConsumer) also clears its tracking there.
   */
  subscription?: (settings: S) => {
    register(): Promise<boolean>;
    unregister(): Promise<number>;
  };
}

interface Flags extends JobFlags, ControlFlags {
  ini?: boolean;
  set: string[];
  register?: boolean;
  unregister?: boolean;
  [command: string]: unknown;
}

export interface JobProgramSpec {
  name: string;
  description: string;
  manual: string;
  /** What a graceful stop finishes first (`batch`, `commit`). */
  unit: string;
  /** Switches of the tool's own, added before the common ones' help. */
  extra?: (command: Command) => void;
}

/** The switches every job shares (upstream BaseScript's): config, -q/-v, -d, -s/-k/-r, ... */
export function jobProgram(spec: JobProgramSpec): Command {
  const command = new Command(spec.name)
    .description(spec.description)
    .usage('[options] config.ini')
    .argument('[config]', `INI file with a [${spec.name}] or [${spec.name}3] section`)
    .option('-q, --quiet', 'no console output (the logfile still gets every line)')
    .option('-v, --verbose', 'more output (-vv: trace)', (_v, previous: number) => previous + 1, 0)
    .option('-d, --daemon', 'run in the background (needs pidfile)')
    .option('-s, --stop', `stop the running job gracefully (SIGINT: finish the ${spec.unit})`)
    .option('-k, --kill', `stop the running job at once (SIGTERM: leave the ${spec.unit})`)
    .option('-r, --reload', 'make the running job re-read its config (SIGHUP)')
    .option('--ini', 'print a sample config file and exit')
    .option(
      '--set <key=value>',
      'override a config key (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    );
  spec.extra?.(command);
  return command
    .addOption(
      new Option('--log-format <format>', 'log line format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .version(toolVersion(spec.name), '-V, --version', 'print the version and exit')
    .addHelpText(
      'after',
      `\nSignals: SIGINT graceful stop, SIGTERM immediate stop, SIGHUP reload. Manual: ${spec.manual}.`,
    )
    .showHelpAfterError()
    .exitOverride();
}

function program<S extends JobSettings>(tool: ConsumerTool<S>): Command {
  return jobProgram({
    name: tool.name,
    description: tool.description,
    manual: tool.manual ?? 'docs/simple-consumer.md',
    unit: 'batch',
    extra(command) {
      command
        .option('--register', 'register the consumer on the queue and exit')
        .option('--unregister', 'unregister the consumer from the queue and exit');
      for (const extra of tool.commands ?? []) command.option(`--${extra.flag}`, extra.description);
    },
  });
}

/** Run the tool with `args` (without node and script); resolves with the exit code. */
export async function runConsumerTool<S extends JobSettings>(
  tool: ConsumerTool<S>,
  args: string[],
): Promise<number> {
  const command = program(tool);
  let overrides: Record<string, string>;
  try {
    await command.parseAsync(args, { from: 'user' });
    overrides = parseOverrides(command.opts<Flags>().set);
  } catch (error) {
    return reportFailure(tool.name, error);
  }
  const flags = command.opts<Flags>();
  if (flags.ini) {
    process.stdout.write(withOverrides(tool.sampleIni, overrides));
    return 0;
  }
  const configArg = command.args[0];
  if (configArg === undefined) {
    process.stderr.write('need config file, use --help for help.\n');
    return 1;
  }
  const load = () => tool.load(Config.load(configArg, [tool.name, `${tool.name}3`], { overrides }));
  let settings: S;
  try {
    settings = load();
  } catch (error) {
    return loadFailure(tool.name, error);
  }
  const control = controlSignal(flags);
  if (control) return sendControl(settings.pidfile, control);
  const oneShot = (tool.commands ?? []).find((extra) => flags[camel(extra.flag)] === true);
  if (flags.register || flags.unregister || oneShot) {
    return runOneShot(tool, settings, flags, oneShot);
  }
  return runJobProcess({
    program: tool.name,
    settings,
    flags,
    load,
    daemon: {
      script: fileURLToPath(new URL(`../../bin/${tool.name}.js`, import.meta.url)),
      args: [configArg, ...flags.set.flatMap((pair) => ['--set', pair])],
    },
    logBase: { job: settings.jobName },
    stopUnit: 'batch',
    stoppedLine: `${tool.name} stopped`,
    jobName: settings.jobName,
    create(logger, metrics) {
      const job = new ConsumerJob(
        settings,
        tool.processor,
        logger,
        tool.name,
        tool.source,
        metrics,
      );
      return {
        stop: (mode) => job.stop(mode === 'immediate'),
        reload: (fresh) => job.reload(fresh),
        run: (context) => runJob(tool, job, flags, context),
      };
    },
  });
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

async function runOneShot<S extends JobSettings>(
  tool: ConsumerTool<S>,
  settings: S,
  flags: Flags,
  extra: ToolCommand<S> | undefined,
): Promise<number> {
  const log = createScriptLogger({
    level: levelFromFlags(flags.quiet === true, flags.verbose),
    format: flags.logFormat,
    base: { job: settings.jobName },
  });
  try {
    let message: string;
    if (extra) {
      message = await extra.run(settings, log.logger);
    } else {
      const consumer =
        tool.subscription?.(settings) ??
        new Consumer({
          connection: settings.srcDb,
          queue: settings.queue,
          consumer: settings.consumer,
          applicationName: `${tool.name} ${settings.jobName}`,
        });
      const what = `consumer ${JSON.stringify(settings.consumer)} on queue ${JSON.stringify(settings.queue)}`;
      try {
        if (flags.register) {
          message = (await consumer.register())
            ? `registered ${what}`
            : `${what} was already registered`;
        } else {
          message =
            (await consumer.unregister()) > 0
              ? `unregistered ${what}`
              : `${what} was not registered`;
        }
      } catch (error) {
        // The server's own reason, after what the command was doing.
        if (!(error instanceof DatabaseFailure)) throw error;
        throw new SkytoolsError(
          error.code,
          `cannot ${flags.register ? 'register' : 'unregister'} ${what}: ${error.serverMessage}`,
          { ...error.context, queue: settings.queue, consumer: settings.consumer },
          { cause: error },
        );
      }
    }
    process.stdout.write(`${message}\n`);
    return 0;
  } catch (error) {
    return reportFailure(tool.name, error);
  } finally {
    log.close();
  }
}

async function runJob<S extends JobSettings>(
  tool: ConsumerTool<S>,
  job: ConsumerJob<S>,
  flags: Flags,
  context: JobContext,
): Promise<number> {
  const { settings } = job;
  warnUnknownKeys(Config.load(settings.file, [settings.section]), tool.keys, (line) =>
    context.logger.warn(line),
  );
  context.logger.info(
    `${tool.name} ${packageVersion} starting: consumer ${settings.consumer} on queue ${settings.queue}`,
  );
  try {
    await job.run();
    return context.stoppedNow ? 1 : 0;
  } catch (error) {
    return jobFailure(tool.name, job.settings.jobName, context, flags.quiet, error);
  }
}
