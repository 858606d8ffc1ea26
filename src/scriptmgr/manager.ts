/**
 * scriptmgr's commands on jobs: status, info, start, stop (SIGINT), restart, reload
 * (SIGHUP), with upstream's texts and exit statuses: 1 when a job is unknown, a start failed,
 * or (status) some job is not running.
 */
import type { Logger } from 'pino';
import { SkytoolsError } from '../errors.js';
import { processAlive, readPidfile } from '../script/pidfile.js';
import { launchJob, signalJob, startCommand } from './launch.js';
import type { Job, ScriptmgrSettings } from './settings.js';

export const scriptmgrCommands = ['status', 'info', 'start', 'stop', 'restart', 'reload'] as const;
export type ScriptmgrCommand = (typeof scriptmgrCommands)[number];

export interface Selection {
  all?: boolean;
  type?: string;
  wait?: boolean;
}

export type JobState = 'running' | 'stopped' | 'dead' | 'no-pidfile';

/** running: the pidfile's process lives; dead: a pidfile whose process is gone (killed). */
export function jobState(job: Job): { state: JobState; pid: number | null } {
  if (job.pidfile === '') return { state: 'no-pidfile', pid: null };
  const pid = readPidfile(job.pidfile);
  if (pid === null) return { state: 'stopped', pid: null };
  return { state: processAlive(pid) ? 'running' : 'dead', pid };
}

const stateLabel: Record<JobState, string> = {
  running: 'OK      ',
  stopped: 'STOPPED ',
  dead: 'DEAD    ',
  'no-pidfile': 'pidfile?',
};

export interface ManagerIo {
  print(line: string): void;
  /** Resolves after a short pause; rejects when the run is being stopped. */
  pause(ms: number): Promise<void>;
}

export class ScriptManager {
  constructor(
    private readonly settings: ScriptmgrSettings,
    private readonly log: Logger,
    private readonly io: ManagerIo,
  ) {}

  /** The jobs a command works on: named ones, `-t SERVICE`, `-a`; status and info default to all. */
  select(command: ScriptmgrCommand, names: string[], selection: Selection): string[] {
    if (names.length > 0) return names;
    const jobs = this.settings.jobs;
    if (selection.type !== undefined) {
      if (!this.settings.services.some((s) => s.service === selection.type)) {
        throw new SkytoolsError(
          'USAGE',
          `unknown service: ${selection.type} (no [${selection.type}] section in ${this.settings.file})`,
        );
      }
      return jobs.filter((j) => j.service === selection.type).map((j) => j.jobName);
    }
    if (selection.all || command === 'status' || command === 'info')
      return jobs.map((j) => j.jobName);
    return [];
  }

  private job(name: string): Job | undefined {
    const job = this.settings.jobs.findLast((j) => j.jobName === name);
    if (job === undefined) this.log.error(`Unknown job: ${name}`);
    return job;
  }

  async run(command: ScriptmgrCommand, names: string[], selection: Selection): Promise<number> {
    const jobs = this.select(command, names, selection);
    if (command === 'status') return this.status(jobs);
    if (command === 'info') return this.info(jobs);
    if (jobs.length === 0) {
      throw new SkytoolsError('USAGE', 'no jobs given? name jobs, or use -a (all) or -t SERVICE');
    }
    let failed = 0;
    if (command === 'start') {
      for (const name of jobs) failed += await this.start(name);
    } else if (command === 'reload') {
      for (const name of jobs) failed += (await this.signal(name, 'SIGHUP')).failed;
    } else if (command === 'stop') {
      const stopped: [string, number | null][] = [];
      for (const name of jobs) {
        const result = await this.signal(name, 'SIGINT');
        failed += result.failed;
        stopped.push([name, result.pid]);
      }
      if (selection.wait) {
        for (const [name, pid] of stopped) await this.waitForStop(name, pid);
      }
    } else {
      for (const name of jobs) {
        const result = await this.signal(name, 'SIGINT');
        failed += result.failed;
        await this.waitForStop(name, result.pid);
        failed += await this.start(name);
      }
    }
    if (failed > 0)
      this.log.error(
        command === 'start' || command === 'restart'
          ? 'some scripts failed'
          : `${command}: some jobs failed`,
      );
    return failed > 0 ? 1 : 0;
  }

  private status(names: string[]): number {
    let notRunning = 0;
    for (const name of names) {
      const job = this.job(name);
      if (job === undefined) {
        notRunning++;
        continue;
      }
      const { state, pid } = jobState(job);
      if ((state === 'stopped' || state === 'dead') && !job.disabled) notRunning++;
      const suffix = `${job.disabled ? '  (disabled)' : ''}${state === 'dead' ? `  (pid ${pid} is gone, pidfile left)` : ''}`;
      this.io.print(` ${stateLabel[state]} [${job.service}] ${job.jobName}${suffix}`);
    }
    return notRunning > 0 ? 1 : 0;
  }

  private info(names: string[]): number {
    let unknown = 0;
    for (const name of names) {
      const job = this.job(name);
      if (job === undefined) {
        unknown++;
        continue;
      }
      const { state, pid } = jobState(job);
      const [program, args] = startCommand(job);
      this.io.print(
        [
          `${job.jobName}:`,
          `  service:  ${job.service}`,
          `  config:   ${job.config}`,
          `  pidfile:  ${job.pidfile || '(none)'}`,
          `  state:    ${state}${pid === null ? '' : ` (pid ${pid})`}`,
          `  script:   ${job.script}`,
          `  command:  ${[program, ...args].join(' ')}`,
          `  cwd:      ${job.cwd}`,
          `  user:     ${job.user || '(this user)'}`,
          `  disabled: ${job.disabled ? 'yes' : 'no'}`,
        ].join('\n'),
      );
    }
    return unknown > 0 ? 1 : 0;
  }

  private async start(name: string): Promise<number> {
    const job = this.job(name);
    if (job === undefined) return 1;
    if (job.disabled) {
      this.log.info(`Skipping disabled job ${name}`);
      return 0;
    }
    if (job.pidfile === '') {
      this.log.warn(`No pidfile for ${name}, cannot launch`);
      return 0;
    }
    const { state } = jobState(job);
    if (state === 'running') {
      this.log.warn(`Script ${name} seems running`);
      return 0;
    }
    if (state === 'dead') this.log.info(`Ignoring stale pidfile for ${name}`);
    this.log.info(`Starting ${name}`);
    const code = await launchJob(job);
    if (code !== 0) {
      this.log.error(`startup failed: ${name}`);
      return 1;
    }
    return 0;
  }

  /** Signal the job's process; `pid` is the one signalled, null when none ran. */
  private async signal(
    name: string,
    signal: NodeJS.Signals,
  ): Promise<{ failed: number; pid: number | null }> {
    const job = this.job(name);
    if (job === undefined) return { failed: 1, pid: null };
    if (job.pidfile === '') {
      this.log.warn(`No pidfile for ${name} (${job.config})`);
      return { failed: 0, pid: null };
    }
    const { state, pid } = jobState(job);
    if (state !== 'running' || pid === null) {
      this.log.warn(`Job ${name} not running`);
      return { failed: 0, pid: null };
    }
    this.log.info(`${signal === 'SIGINT' ? 'Stopping' : 'Reloading'} ${name}`);
    await signalJob(job, pid, signal);
    return { failed: 0, pid };
  }

  /**
   * Until the signalled process is gone (its pidfile goes a moment before it exits) and no
   * other has taken the pidfile.
   */
  private async waitForStop(name: string, pid: number | null): Promise<void> {
    const job = this.settings.jobs.findLast((j) => j.jobName === name);
    if (job === undefined || job.pidfile === '') return;
    let said = false;
    while ((pid !== null && processAlive(pid)) || jobState(job).state === 'running') {
      if (!said) this.log.info(`Waiting for ${name} to stop`);
      said = true;
      await this.io.pause(100);
    }
  }
}
