/**
 * `londiste CONFIG copy TABLE`: one table's copy process, started by the worker with -d
 * (spec §6.4; worker/copy-worker.ts does the work, run-copy-job.ts runs it). It exits 0 once
 * the table is handed over to the worker, or when stopped; a state it cannot go on from exits 1.
 */
import type { JobCommand } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';

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
  // The copy's modules load when it runs: --help and the other commands do without them.
  preload: async () => {
    await import('./run-copy-job.js');
  },
  run: async (start, [table]) =>
    (await import('./run-copy-job.js')).runCopyJob(start, table as string),
};
