/**
 * `londiste CONFIG copy TABLE`: one table's copy process, started by the worker with -d
 * (spec §6.4; worker/copy-worker.ts does the work). It runs under the one job lifecycle
 * (runWorkerJob: pidfile `<pidfile>.copy.<table>`, signals, logfile) and exits 0 once the
 * table is handed over to the worker, or when stopped; a state it cannot go on from exits 1.
 */
import path from 'node:path';
import type { JobCommand, JobStart } from '../../cascade/tool.js';
import { runWorkerJob } from '../../cascade/worker-job.js';
import type { LondisteSettings } from '../settings.js';
import { fqname } from '../table-names.js';
import { copyPidfile } from '../worker/copy-launcher.js';
import { CopyWorker } from '../worker/copy-worker.js';

/** `--copy-rate=N` (ours): rows per second at most; undefined when not given. */
export function copyRate(flags: object): number | undefined {
  const value = (flags as { copyRate?: string }).copyRate;
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!Number.isFinite(rate) || rate <= 0) {
    throw new Error(`--copy-rate must be a positive number of rows per second, got ${value}`);
  }
  return rate;
}

function runCopyJob(start: JobStart<LondisteSettings>, name: string): Promise<number> {
  const table = fqname(name);
  // The worker's INI: its own pidfile, and no metrics_port (the worker serves that port).
  const mine = (settings: LondisteSettings): LondisteSettings => ({
    ...settings,
    pidfile: settings.pidfile ? copyPidfile(settings.pidfile, table) : undefined,
    metricsListen: undefined,
  });
  let rowsPerSecond: number | undefined;
  try {
    rowsPerSecond = copyRate(start.flags);
  } catch (error) {
    process.stderr.write(`${start.program}: error: ${(error as Error).message}\n`);
    return Promise.resolve(1);
  }
  const rateArgs = rowsPerSecond === undefined ? [] : ['--copy-rate', String(rowsPerSecond)];
  return runWorkerJob({
    program: start.program,
    settings: mine(start.settings),
    flags: start.flags,
    load: () => mine(start.load()),
    daemon: { script: start.daemon.script, args: [...start.daemon.args, ...rateArgs] },
    role: 'copy',
    createWorker: (options, settings) =>
      new CopyWorker({
        ...options,
        table,
        workerName: settings.jobName,
        rowsPerSecond,
        handlerModules: settings.handlerModules,
        handlerConfig: settings.handlerConfig,
        baseDir: settings.file === undefined ? undefined : path.dirname(settings.file),
      }),
  });
}

export const copyJobCommand: JobCommand<LondisteSettings> = {
  name: 'copy',
  args: ['table'],
  summary: 'copy one table, then replay it until the worker takes it over (started by the worker)',
  help: `copy TABLE: the copy process of one table, started by "%TOOL% CONFIG worker" (with -d)
  when the table needs its data; not usually run by hand.
  Registers consumer <job_name>.copy.<table> on the copy source (the provider, or the table's
  copy_node), copies the data in one local transaction (state catching-up with the copy's
  snapshot), replays the table's events until it has caught up, then hands the table over
  to the worker (wanna-sync, do-sync, ok) and exits. Pidfile <pidfile>.copy.<table>.
  Progress (rows, bytes, rate, ETA) goes to the log.
  --copy-rate=N (ours): copy at most N rows per second.`,
  run: (start, [table]) => runCopyJob(start, table as string),
};
