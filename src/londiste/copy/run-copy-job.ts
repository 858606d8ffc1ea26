/**
 * The run of `londiste CONFIG copy TABLE` (job.ts): the copy worker under the one job
 * lifecycle (runWorkerJob: pidfile `<pidfile>.copy.<table>`, signals, logfile).
 */
import type { JobStart } from '../../cascade/tool.js';
import { runWorkerJob } from '../../cascade/worker-job.js';
import type { LondisteSettings } from '../settings.js';
import { fqname } from '../table-names.js';
import { copyPidfile } from '../worker/copy-launcher.js';
import { CopyWorker, copySettings } from '../worker/copy-worker.js';

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

export function runCopyJob(start: JobStart<LondisteSettings>, name: string): Promise<number> {
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
        rowsPerSecond,
        ...copySettings(settings),
      }),
  });
}
