/**
 * One description of a cascade tool: its name, INI sections and database key, its commands
 * with their options and help, the sample INI, and the worker it runs. `setadm` is the
 * cascade admin commands with the plain worker (admin/setadm-tool.ts); Londiste is the same
 * commands plus its own, with a worker that carries its hooks. The command line is built
 * from it by one generic runner (src/cli/cascade-tool.ts).
 */

import type { JobFlags } from '../script/job-process.js';
import type { AdminFlags } from './admin/commands.js';
import type { AdminHooks } from './admin/hooks.js';
import type { AdminSession } from './admin/session.js';
import type { AdminSettings, CommandLineSettings } from './admin/settings.js';
import type { WorkerFactory } from './worker-job.js';

export interface CommandContext<S extends AdminSettings, F extends AdminFlags = AdminFlags> {
  session: AdminSession;
  settings: S;
  flags: F;
  /** Terminal output: lag over a minute in red. */
  color: boolean;
}

export interface ToolCommand<S extends AdminSettings, F extends AdminFlags = AdminFlags> {
  name: string;
  /** Argument names; a trailing `?` marks an optional one, a last `NAME...` any number. */
  args: string[];
  summary: string;
  /**
   * Options that matter for this command, and what it does in detail (`--help COMMAND`).
   * `%TOOL%` stands for the tool's name, so one table serves every tool.
   */
  help: string;
  /** Read-only: runs without the `<pidfile>.admin` lock (upstream's list). */
  readOnly?: boolean;
  /** Resolves with the exit status when the command sets one (compare: tables that differ). */
  // biome-ignore lint/suspicious/noConfusingVoidType: most commands resolve with nothing
  run(ctx: CommandContext<S, F>, args: string[]): Promise<void | number>;
}

/** A command-line switch of a tool, as commander takes it. */
export interface ToolOption {
  /** e.g. `--provider <connstr|node>` or `--all`. */
  flags: string;
  description: string;
  /** For repeatable switches: how a value joins the previous ones, and the start value. */
  parse?: (value: string, previous: string[]) => string[];
  defaultValue?: string[];
}

/** What a long-running command is started with (the runner parsed the rest). */
export interface JobStart<S> {
  /** The tool's name in log and failure lines. */
  program: string;
  settings: S;
  flags: JobFlags;
  /** Read the settings again (SIGHUP). */
  load(): S;
  /** The bin and the arguments a daemon child runs: config, overrides, command and its args. */
  daemon: { script: string; args: string[] };
}

/**
 * A long-running command besides `worker` (Londiste's `copy TABLE`, which its worker starts
 * with -d), run under the one job lifecycle (runJobProcess); resolves with the exit code.
 */
export interface JobCommand<S> {
  name: string;
  /** Argument names; a trailing `?` marks an optional one. */
  args: string[];
  summary: string;
  help: string;
  /** Load what `run` needs, ahead of it (a spare process of the command: script/spare.ts). */
  preload?(): Promise<void>;
  run(start: JobStart<S>, args: string[]): Promise<number>;
}

export interface CascadeTool<S extends AdminSettings, F extends AdminFlags = AdminFlags> {
  /** The bin name (`setadm`, `londiste`); the bin file is `bin/<name>.js`. */
  name: string;
  /** One line for `--help`. */
  description: string;
  /**
   * INI sections tried in order (upstream's name, with and without the `3`); the file's
   * base name (the job name) is tried after them.
   */
  sections: string[];
  /** The INI key of the local node's database (`node_db` for setadm, `db` for Londiste). */
  dbKey: string;
  /** Commands but `worker`, which every tool has. */
  commands: ToolCommand<S, F>[];
  /** Switches besides the ones every tool has (-q, -v, -d, -s, -k, -r, --ini, --set, --db, ...). */
  options: ToolOption[];
  /** `--ini`. */
  sampleIni: string;
  /** Help of `worker` (`%TOOL%` as in command help). */
  workerHelp: string;
  /** The last lines of `--help` (where the manual is). */
  helpFooter: string[];
  /** Settings from the INI file (or none: --db and --queue), with --set overrides. */
  loadSettings(
    file: string | undefined,
    cli: CommandLineSettings,
    overrides: Record<string, string>,
  ): S;
  /** Long-running commands besides `worker`. */
  jobCommands?: JobCommand<S>[];
  /** The worker `worker` runs; the plain CascadedWorker when absent (and no loadWorker). */
  createWorker?: WorkerFactory<S>;
  /**
   * The worker's factory loaded when `worker` runs (instead of createWorker), so the tool's
   * other commands start without loading the worker's modules.
   */
  loadWorker?(): Promise<WorkerFactory<S>>;
  /** What the tool adds to create-* and takeover; a function gets the run's settings. */
  adminHooks?: AdminHooks | ((settings: S) => AdminHooks);
}

/** `%TOOL%` in help texts becomes the tool's name. */
export function toolText(text: string, name: string): string {
  return text.replaceAll('%TOOL%', name);
}
