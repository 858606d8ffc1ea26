/**
 * pgqd as a long-running job: the ticker daemon inside the one job lifecycle
 * (src/script/job-process.ts): -d with a pidfile, syslog when configured, SIGINT = finish the
 * step and exit 0, SIGTERM = stop now and exit 1, SIGHUP = re-read the config.
 */
import { fileURLToPath } from 'node:url';
import { SkytoolsError } from '../errors.js';
import { type JobContext, type JobFlags, runJobProcess } from '../script/job-process.js';
import { packageVersion } from '../version.js';
import { Pgqd } from './pgqd.js';
import { loadPgqdSettings, type PgqdSettings } from './settings.js';

const binScript = fileURLToPath(new URL('../../bin/pgqd.js', import.meta.url));

/** Run pgqd with loaded settings; `configArg` is handed to a daemon child. */
export function runPgqdJob(
  settings: PgqdSettings,
  flags: JobFlags,
  configArg: string,
): Promise<number> {
  return runJobProcess({
    program: 'pgqd',
    settings,
    flags,
    load: () => loadPgqdSettings(settings.file),
    daemon: { script: binScript, args: [configArg] },
    syslog: settings.syslog
      ? {
          ident: settings.syslogIdent,
          facility: settings.syslogFacility,
          // Another socket than the system's (a chroot, a test's own receiver).
          socket: process.env.SKYTOOLS_SYSLOG_SOCKET,
        }
      : undefined,
    stopUnit: 'step',
    stoppedLine: 'pgqd stopped',
    create(logger, metrics) {
      const daemon = new Pgqd(settings, { logger });
      metrics.totals('pgqd', pgqdCounters, () => ({ ...daemon.stats() }));
      metrics.gauge('skytools_pgqd_databases', 'Databases pgqd works on, by state', ['state'], () =>
        countStates(daemon.databases()),
      );
      return {
        stop: (mode) => void daemon.stop({ immediate: mode === 'immediate' }),
        reload: (fresh) => daemon.reload(fresh),
        run: (context) => runTicker(daemon, context),
      };
    },
  });
}

/** The counters of pgqd's `{ticks: N, maint: N, retry: N, errors: N}` line, since start. */
const pgqdCounters = {
  ticks: 'Ticks made',
  maint: 'Maintenance steps run',
  retry: 'Retry events put back into their queues',
  errors: 'Failed database rounds',
};

function countStates(databases: Record<string, string>): [{ state: string }, number][] {
  const counts = new Map<string, number>();
  for (const state of Object.values(databases)) counts.set(state, (counts.get(state) ?? 0) + 1);
  return [...counts].map(([state, n]) => [{ state }, n]);
}

async function runTicker(daemon: Pgqd, context: JobContext): Promise<number> {
  context.logger.info(`pgqd ${packageVersion} starting`);
  try {
    await daemon.start();
    return context.stoppedNow ? 1 : 0;
  } catch (error) {
    // The ticker has logged its own failure; only a bug's stack is left to show.
    if (error instanceof SkytoolsError) return 1;
    context.logger.fatal(String((error as Error).stack));
    return 2;
  }
}
