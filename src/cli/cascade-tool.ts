/**
 * The command line of a cascade tool, built from its description (src/cascade/tool.ts):
 * `setadm`, and every tool on the cascade. Command line as upstream: `TOOL [options] CONFIG
 * COMMAND [ARGS]`, or without a file `TOOL --db=CONNSTR --queue=QUEUE COMMAND [ARGS]`.
 * Results on stdout, progress on stderr; exit 0 = done, 1 = refused or failed (one line
 * naming the problem), 2 = a bug; a command may set its own (compare: tables that differ).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import pg from 'pg';
import type { AdminFlags } from '../cascade/admin/commands.js';
import { AdminSession } from '../cascade/admin/session.js';
import type { AdminSettings } from '../cascade/admin/settings.js';
import { type CascadeTool, type ToolCommand, toolText } from '../cascade/tool.js';
import { describeUnknownKey } from '../config/index.js';
import { DatabaseFailure } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';
import { type ControlFlags, controlSignal, sendControl } from '../script/control.js';
import type { JobFlags } from '../script/job-process.js';
import { parseOverrides, withOverrides } from '../script/overrides.js';
import { acquirePidfile, type Pidfile } from '../script/pidfile.js';
import { reportFailure } from '../script/report-failure.js';
import { awaitSpareArgs, isSpare } from '../script/spare-child.js';
import { toolVersion } from '../version.js';

interface Flags extends AdminFlags, JobFlags, ControlFlags {
  help?: boolean;
  ini?: boolean;
  set: string[];
  db?: string;
  queue?: string;
  dryRun?: boolean;
  target?: string;
}

const repeat = (value: string, previous: string[]) => [...previous, value];

/** The switches every cascade tool has, then the tool's own. */
export function toolProgram<S extends AdminSettings, F extends AdminFlags>(
  tool: CascadeTool<S, F>,
  name = tool.name,
): Command {
  const program = new Command(name)
    .description(tool.description)
    .usage('[options] CONFIG COMMAND [ARGS]  |  --db=CONNSTR --queue=QUEUE COMMAND [ARGS]')
    .argument('[args...]', 'config file, command, command arguments')
    .helpOption(false)
    .option('-h, --help', "show help (with a command: that command's help)")
    .option('-q, --quiet', 'no progress output, warnings only')
    .option('-v, --verbose', 'more output', (_v, previous: number) => previous + 1, 0)
    .option('-d, --daemon', 'worker: run in the background (needs pidfile)')
    .option('-s, --stop', 'stop the running worker gracefully (SIGINT)')
    .option('-k, --kill', 'stop the running worker at once (SIGTERM)')
    .option('-r, --reload', 'make the running worker re-read its config (SIGHUP)')
    .option('--ini', 'print a sample config file and exit')
    .option('--set <key=value>', 'override a config key (repeatable)', repeat, [])
    .option('--db <connstr>', `the local node (instead of ${tool.dbKey}; default: PG* environment)`)
    .option('--queue <name>', 'the cascaded queue (instead of queue_name)');
  for (const option of tool.options) {
    if (option.parse) {
      program.option(option.flags, option.description, option.parse, option.defaultValue);
    } else {
      program.option(option.flags, option.description);
    }
  }
  return program
    .option('--dry-run', 'print the changes a command would make, change nothing')
    .addOption(
      new Option('--log-format <format>', 'worker: log line format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .version(toolVersion(name), '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .exitOverride();
}

function findCommand<S extends AdminSettings, F extends AdminFlags>(
  tool: CascadeTool<S, F>,
  name: string,
): ToolCommand<S, F> | undefined {
  return tool.commands.find((c) => c.name === name);
}

function toolHelp<S extends AdminSettings, F extends AdminFlags>(
  tool: CascadeTool<S, F>,
  program: Command,
): string {
  // A tool's own command of a name takes the place of the shared one (the first found).
  const commands = tool.commands.filter(
    (c, i, all) => all.findIndex((o) => o.name === c.name) === i,
  );
  const width = Math.max(...commands.map((c) => c.name.length), 6);
  const lines = [
    program.helpInformation().trimEnd(),
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'worker'.padEnd(width)}  run the node's cascaded worker (long-running job)`,
    ...(tool.jobCommands ?? []).map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    ...tool.helpFooter.map((line) => toolText(line, tool.name)),
  ];
  return `${lines.join('\n')}\n`;
}

/** upstream's argument-count message. */
function checkArgs(command: { name: string; args: string[] }, args: string[]): void {
  // A last argument `NAME...` takes any number of words (the command checks the count).
  const variadic = command.args.at(-1)?.endsWith('...') === true;
  const required = command.args.filter((a) => !a.endsWith('?') && !a.endsWith('...'));
  if (args.length < required.length || (!variadic && args.length > command.args.length)) {
    const expects =
      required.length === command.args.length
        ? `${command.args.length}`
        : `${required.length} to ${command.args.length}`;
    throw new SkytoolsError(
      'USAGE',
      `command '${command.name}' got ${args.length} args, but expects ${expects}: ${command.args.map((a) => a.replace(/\?$/, '')).join(', ') || 'none'}`,
      { command: command.name },
    );
  }
}

/**
 * Run `tool` with `args` (without node and script); resolves with the exit code. `name` is
 * how failure lines call the program (`skytools set` for the subcommand).
 */
export async function runCascadeTool<S extends AdminSettings, F extends AdminFlags>(
  tool: CascadeTool<S, F>,
  given: string[],
  name = tool.name,
): Promise<number> {
  let args = given;
  if (isSpare()) {
    // Started ahead of need: the job command's modules now, its arguments when work comes.
    const job = tool.jobCommands?.find((c) => given.includes(c.name));
    const rest = await awaitSpareArgs(async () => {
      await job?.preload?.();
    });
    if (rest === null) return 0;
    args = [...given, ...rest];
  }
  const program = toolProgram(tool, name);
  let overrides: Record<string, string>;
  try {
    await program.parseAsync(args, { from: 'user' });
    overrides = parseOverrides(program.opts<Flags>().set);
  } catch (error) {
    return reportFailure(name, error);
  }
  const flags = program.opts<Flags & F>();
  const positional = [...program.args];
  const isCommandName = (word: string | undefined) =>
    word === 'worker' ||
    findCommand(tool, word ?? '') !== undefined ||
    tool.jobCommands?.some((c) => c.name === word) === true;
  // CONFIG first, as upstream; a known command word first means no file (--db / --queue).
  const first = positional[0];
  const noFile =
    first !== undefined &&
    !existsSync(first) &&
    (isCommandName(first) || (flags.queue !== undefined && !first.endsWith('.ini')));
  const config = noFile ? undefined : positional.shift();
  const commandName = positional.shift();
  if (flags.help) {
    const word = commandName ?? config ?? '';
    const command = findCommand(tool, word) ?? tool.jobCommands?.find((c) => c.name === word);
    if (command !== undefined) process.stdout.write(`${toolText(command.help, tool.name)}\n`);
    else if ((commandName ?? config) === 'worker') {
      process.stdout.write(`${toolText(tool.workerHelp, tool.name)}\n`);
    } else process.stdout.write(toolHelp(tool, program));
    return 0;
  }
  if (flags.ini) {
    process.stdout.write(withOverrides(tool.sampleIni, overrides));
    return 0;
  }
  if (config === undefined && flags.queue === undefined) {
    process.stderr.write('need config file, use --help for help.\n');
    return 1;
  }
  const load = () => tool.loadSettings(config, { db: flags.db, queue: flags.queue }, overrides);
  let settings: S;
  try {
    settings = load();
  } catch (error) {
    return reportFailure(name, error);
  }
  // Once per run, not on reload; upstream's files with keys of other tools still work.
  for (const unknown of settings.unknownKeys) {
    process.stderr.write(`${name}: warning: ${describeUnknownKey(unknown)} ignored\n`);
  }
  const control = controlSignal(flags);
  if (control) return sendControl(settings.pidfile, control);
  if (commandName === undefined) {
    process.stderr.write(`${name}: error: need command, see --help for usage\n`);
    return 1;
  }
  const childArgs = [...(config ? [config] : []), ...flags.set.flatMap((s) => ['--set', s])];
  if (flags.db) childArgs.push('--db', flags.db);
  if (flags.queue) childArgs.push('--queue', flags.queue);
  const daemon = (words: string[]) => ({
    script: fileURLToPath(new URL(`../../bin/${tool.name}.js`, import.meta.url)),
    args: [...childArgs, ...words],
  });
  if (commandName === 'worker') {
    if (positional.length > 0) {
      process.stderr.write(
        `${name}: error: command 'worker' got ${positional.length} args, but expects 0\n`,
      );
      return 1;
    }
    // The job's modules (logging, the loop, the worker) load only for the worker.
    const { runWorkerJob } = await import('../cascade/worker-job.js');
    return runWorkerJob({
      program: name,
      settings,
      flags,
      load,
      daemon: daemon(['worker']),
      createWorker: tool.createWorker ?? (await tool.loadWorker?.()),
    });
  }
  const jobCommand = tool.jobCommands?.find((c) => c.name === commandName);
  if (jobCommand !== undefined) {
    try {
      checkArgs(jobCommand, positional);
    } catch (error) {
      return reportFailure(name, error);
    }
    return jobCommand.run(
      { program: name, settings, flags, load, daemon: daemon([commandName, ...positional]) },
      positional,
    );
  }
  const command = findCommand(tool, commandName);
  if (command === undefined) {
    process.stderr.write(`${name}: error: bad subcommand '${commandName}', see --help for usage\n`);
    return 1;
  }
  let pidfile: Pidfile | undefined;
  const session = new AdminSession({
    queue: settings.queue,
    localDb: settings.nodeDb,
    extraConnstr: settings.extraConnstr,
    dryRun: flags.dryRun,
    dead: flags.dead,
    applicationName: `${name} ${command.name}`,
    hooks: typeof tool.adminHooks === 'function' ? tool.adminHooks(settings) : tool.adminHooks,
    output: {
      print: (line) => process.stdout.write(`${line}\n`),
      info: (line) => {
        if (!flags.quiet) process.stderr.write(`${line}\n`);
      },
      warn: (line) => process.stderr.write(`WARNING: ${line}\n`),
    },
  });
  try {
    checkArgs(command, positional);
    // One admin command at a time per config, as upstream; reads need no lock.
    if (settings.pidfile && !command.readOnly)
      pidfile = acquirePidfile(`${settings.pidfile}.admin`);
    const status = await command.run(
      { session, settings, flags, color: process.stdout.isTTY === true },
      positional,
    );
    // An exit status of the command's own (compare: tables that differ), as a process has it.
    return typeof status === 'number' ? Math.min(255, Math.max(0, status)) : 0;
  } catch (error) {
    return reportFailure(name, databaseFailure(error, settings.queue, command.name));
  } finally {
    await session.close();
    pidfile?.release();
  }
}

/**
 * A server error is the operator's problem to fix, not a bug of ours: one line with its
 * SQLSTATE, and for the usual one (no pgq_node here) what to do about it.
 */
function databaseFailure(failure: unknown, queue: string, command: string): unknown {
  // The library's calls reject with DatabaseFailure; its cause is the server's error.
  const error = failure instanceof DatabaseFailure ? failure.cause : failure;
  if (!(error instanceof pg.DatabaseError)) return failure;
  if (error.code === '3F000' || (error.code === '42883' && /pgq_node\./.test(error.message))) {
    return new SkytoolsError(
      'NOT_A_NODE',
      `the local database has no pgq_node schema: it is no node of queue ${queue} (create-root, create-branch or create-leaf install it)`,
      { queue, command },
      { cause: error },
    );
  }
  const detail = error.detail ? ` (${error.detail})` : '';
  return new SkytoolsError(
    'DB_ERROR',
    `${command} on queue ${queue}: ${error.message}${detail} [SQLSTATE ${error.code}]`,
    { queue, command, sqlstate: error.code },
    { cause: error },
  );
}
