/**
 * `skytools set` and its alias bin `setadm`: upstream's cascade admin (§2.5). Command line as
 * upstream: `setadm [options] CONFIG COMMAND [ARGS]`, or without a file `setadm --db=CONNSTR
 * --queue=QUEUE COMMAND [ARGS]`. Results on stdout, progress on stderr; exit 0 = done,
 * 1 = refused or failed (one line naming the problem), 2 = a bug.
 */
import { existsSync } from 'node:fs';
import { Command, Option } from 'commander';
import pg from 'pg';
import { AdminSession } from '../cascade/admin/session.js';
import { type AdminSettings, loadAdminSettings, sampleIni } from '../cascade/admin/settings.js';
import { describeUnknownKey } from '../config/index.js';
import { DatabaseFailure } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';
import { type ControlFlags, controlSignal, sendControl } from '../script/control.js';
import { acquirePidfile, type Pidfile } from '../script/index.js';
import type { JobFlags } from '../script/job-process.js';
import { parseOverrides, withOverrides } from '../script/overrides.js';
import { toolVersion } from '../version.js';
import { reportFailure } from './output.js';
import {
  adminCommands,
  checkArgs,
  findCommand,
  type SetFlags,
  workerHelp,
} from './set-commands.js';
import { runWorker } from './set-worker.js';

interface Flags extends SetFlags, JobFlags, ControlFlags {
  help?: boolean;
  ini?: boolean;
  set: string[];
  db?: string;
  queue?: string;
  dryRun?: boolean;
  target?: string;
}

const repeat = (value: string, previous: string[]) => [...previous, value];

export function setProgram(name: string): Command {
  return new Command(name)
    .description(
      'Cascade admin: create and inspect cascade nodes, pause, move and drop them, run the worker.',
    )
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
    .option('--db <connstr>', 'the local node (instead of node_db; default: PG* environment)')
    .option('--queue <name>', 'the cascaded queue (instead of queue_name)')
    .option(
      '--provider <connstr|node>',
      'create-branch/leaf: provider connect string; change-provider: node name',
    )
    .option('--worker <name>', 'create-*: the worker name')
    .option('--node <name>', 'pause/resume/change-provider: the target node')
    .option('--consumer <name>', 'pause/resume/change-provider: a cascaded consumer as target')
    .option('--target <name>', 'accepted for compatibility, unused')
    .option('--merge <queue>', 'create-leaf: merge into this local queue')
    .option('--dead <node>', 'treat the node as dead for this run (repeatable)', repeat, [])
    .option('--dead-root', 'takeover: the old root is dead (failover)')
    .option('--dead-branch', 'takeover: the old branch is dead')
    .option('--all', 'takeover: move all subscribers of the old node too')
    .option('--force', 'takeover: even when the local node is behind')
    .option(
      '--sync-watermark <nodes>',
      'create-branch: comma-separated branches to keep in step with',
    )
    .option('--nocheck', 'create-*: skip the public connect string check')
    .option('--compact', 'status: one line per node')
    .option('--dry-run', 'print the changes a command would make, change nothing')
    .option('--timeout <seconds>', 'pause/resume/change-provider/wait-*: waiting limit')
    .option('--dump-file <file>', 'resurrect: where to write the lost events')
    .addOption(
      new Option('--log-format <format>', 'worker: log line format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .version(toolVersion(name), '-V, --version', 'print the version and exit')
    .showHelpAfterError()
    .exitOverride();
}

function isCommandName(word: string | undefined): boolean {
  return word === 'worker' || findCommand(word ?? '') !== undefined;
}

function toolHelp(program: Command): string {
  const width = Math.max(...adminCommands.map((c) => c.name.length), 6);
  const lines = [
    program.helpInformation().trimEnd(),
    '',
    'Commands:',
    ...adminCommands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${'worker'.padEnd(width)}  run the node's cascaded worker (long-running job)`,
    '',
    'INI: section [cascade_admin] (or the job name), keys node_db, queue_name, ... (see --ini).',
    'Help for one command: setadm --help COMMAND. Manual: docs/cascade.md.',
  ];
  return `${lines.join('\n')}\n`;
}

/** Run with `args` (without node and script); resolves with the exit code. */
export async function runSet(args: string[], name = 'setadm'): Promise<number> {
  const program = setProgram(name);
  let overrides: Record<string, string>;
  try {
    await program.parseAsync(args, { from: 'user' });
    overrides = parseOverrides(program.opts<Flags>().set);
  } catch (error) {
    return reportFailure(name, error);
  }
  const flags = program.opts<Flags>();
  const positional = [...program.args];
  // CONFIG first, as upstream; a known command word first means no file (--db / --queue).
  const first = positional[0];
  const noFile =
    first !== undefined &&
    !existsSync(first) &&
    (isCommandName(first) || (flags.queue !== undefined && !first.endsWith('.ini')));
  const config = noFile ? undefined : positional.shift();
  const commandName = positional.shift();
  if (flags.help) {
    const command = findCommand(commandName ?? config ?? '');
    if (command !== undefined) process.stdout.write(`${command.help}\n`);
    else if ((commandName ?? config) === 'worker') process.stdout.write(`${workerHelp}\n`);
    else process.stdout.write(toolHelp(program));
    return 0;
  }
  if (flags.ini) {
    process.stdout.write(withOverrides(sampleIni, overrides));
    return 0;
  }
  if (config === undefined && flags.queue === undefined) {
    process.stderr.write('need config file, use --help for help.\n');
    return 1;
  }
  const load = () => loadAdminSettings(config, { db: flags.db, queue: flags.queue }, overrides);
  let settings: AdminSettings;
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
  if (commandName === 'worker') {
    if (positional.length > 0) {
      process.stderr.write(
        `${name}: error: command 'worker' got ${positional.length} args, but expects 0\n`,
      );
      return 1;
    }
    const childArgs = [...(config ? [config] : []), ...flags.set.flatMap((s) => ['--set', s])];
    if (flags.db) childArgs.push('--db', flags.db);
    if (flags.queue) childArgs.push('--queue', flags.queue);
    return runWorker(name, settings, { ...flags, childArgs }, load);
  }
  const command = findCommand(commandName);
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
    await command.run(
      { session, settings, flags, color: process.stdout.isTTY === true },
      positional,
    );
    return 0;
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
