/**
 * The copy processes the main worker starts (`londiste CONFIG copy TABLE -d`, spec §6.4),
 * one per table in copy: started when the table goes in-copy, and again when the one running
 * it died (its pidfile names no live process), never two at once. Without a pidfile the copy
 * runs as a child of the worker (no -d), watched through its process handle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Logger } from '../../pgq/logger.js';
import { spawnDaemon } from '../../script/daemon.js';
import { processAlive, readPidfile } from '../../script/pidfile.js';
import { type Spare, spawnSpare } from '../../script/spare.js';
import type { CopyStarter } from './copy-tasks.js';

/** How to run this tool again: the bin and the arguments that name its config. */
export interface ToolCommandLine {
  script: string;
  args: string[];
}

/** The pidfile of a table's copy process. */
export function copyPidfile(pidfile: string, table: string): string {
  return `${pidfile}.copy.${table.replaceAll('/', '_')}`;
}

/**
 * The running tool's command line for a sibling command: the config, --set, --db, --queue
 * and the log switches kept; the command word `worker` and the daemon/control switches out.
 */
export function siblingCommandLine(argv: readonly string[] = process.argv): ToolCommandLine | null {
  const [, script, ...rest] = argv;
  // Only this package's bins take `copy TABLE`; a program that embeds the worker passes
  // its own copyCommand.
  if (script === undefined || !/(^|[\\/])(londiste|skytools)(\.js)?$/.test(script)) return null;
  const args: string[] = [];
  let droppedWorker = false;
  for (const word of rest) {
    if (!droppedWorker && word === 'worker') {
      droppedWorker = true;
      continue;
    }
    if (['-d', '--daemon', '-s', '--stop', '-k', '--kill', '-r', '--reload'].includes(word)) {
      continue;
    }
    args.push(word);
  }
  return { script: script as string, args };
}

/** The value of `--copy-rate` in a command line's arguments; undefined when absent. */
export function copyRateArg(args: readonly string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    const value =
      word === '--copy-rate'
        ? args[i + 1]
        : word.startsWith('--copy-rate=')
          ? word.slice(12)
          : undefined;
    if (value === undefined) continue;
    const rate = Number(value);
    return Number.isFinite(rate) && rate > 0 ? rate : undefined;
  }
  return undefined;
}

/** A spare copy process is not started sooner than this after the last one. */
const spareRespawnMs = 3000;

export class CopyLauncher implements CopyStarter {
  readonly #children = new Map<string, ChildProcess>();
  readonly #starting = new Map<string, Promise<void>>();
  #spare: Spare | undefined;
  #spareSpawnedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly command: ToolCommandLine,
    /** The worker's pidfile; undefined = copies run as children of the worker. */
    private readonly pidfile: string | undefined,
    /** Where a daemon copy's stdout and stderr go (crashes included). */
    private readonly logfile: string | undefined,
    private readonly log: Logger,
    /** Keep a spare copy process (`copy_prestart`; daemon copies only). */
    private readonly prestart = false,
  ) {}

  /** Whether a copy process of `table` is alive (or being started). */
  running(table: string): boolean {
    if (this.#starting.has(table)) return true;
    if (this.pidfile !== undefined) {
      const pid = readPidfile(copyPidfile(this.pidfile, table));
      if (pid !== null && processAlive(pid)) return true;
    }
    const child = this.#children.get(table);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Start the table's copy process unless one runs. */
  ensure(table: string): void {
    if (this.running(table)) return;
    const args = [...this.command.args, 'copy', table];
    if (this.pidfile === undefined) {
      this.log.info({ table }, `launching copy process for ${table}`);
      const env = { ...process.env };
      delete env.SKYTOOLS_DAEMON_CHILD;
      const child = spawn(process.execPath, [this.command.script, ...args], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env,
      });
      this.#children.set(table, child);
      child.on('error', (error) => this.log.error({ err: error, table }, 'copy process failed'));
      return;
    }
    // Started as -d starts a daemon (one process, not a launcher and its child): resolved
    // once the copy holds its pidfile. A waiting spare has its modules loaded already.
    const spare = this.#spare?.waiting ? this.#spare : undefined;
    this.#spare = undefined;
    this.log.info(
      { table, spare: spare?.pid },
      `launching copy process for ${table}${spare ? ` (the spare, pid ${spare.pid})` : ''}`,
    );
    const started = (
      spare !== undefined
        ? spare.start([table, '-d'])
        : spawnDaemon({ script: this.command.script, args: [...args, '-d'], logfile: this.logfile })
    )
      .catch((error: unknown) => {
        this.log.warn({ err: error, table }, `copy process for ${table} did not start`);
      })
      .finally(() => this.#starting.delete(table))
      .then(() => {});
    this.#starting.set(table, started);
  }

  /**
   * No copy under way: have a spare copy process waiting for the next table, unless one
   * waits or starts already. Only then, so its start never competes with a copy's.
   */
  idle(): void {
    if (!this.prestart || this.pidfile === undefined || this.#starting.size > 0) return;
    if (this.#spare !== undefined) {
      // A spare that died (killed, or its start failed) is replaced, not at once: one that
      // cannot start must not be started again on every loop.
      if (this.#spare.waiting || (this.#spare.pid !== undefined && processAlive(this.#spare.pid))) {
        return;
      }
    }
    if (performance.now() - this.#spareSpawnedAt < spareRespawnMs) return;
    this.#spareSpawnedAt = performance.now();
    this.#spare = spawnSpare(
      { script: this.command.script, args: [...this.command.args, 'copy'], logfile: this.logfile },
      (pid) => this.log.debug({ spare: pid }, `spare copy process ${pid} waits for a table`),
    );
  }

  /** Wait for launches in progress (a stopping worker leaves no half-started copy). */
  async settle(): Promise<void> {
    await Promise.all(this.#starting.values());
  }

  /** The worker stops: its spare goes; the copies run on by themselves. */
  async stop(): Promise<void> {
    this.#spare?.discard();
    this.#spare = undefined;
  }
}
