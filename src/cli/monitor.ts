/**
 * The monitoring commands: `skytools metrics` (Prometheus /metrics), `skytools dashboard`
 * (one live page) and `skytools munin` (a Munin plugin; also run as a symlink named
 * `pgq_<queue>` or `pgq`). See docs/monitoring.md.
 */
import path from 'node:path';
import { Command, Option } from 'commander';
import { Monitor } from '../monitor/monitor.js';
import { muninRun, queueOfPluginName } from '../monitor/munin.js';
import { type HttpEndpoint, type ListenAddress, parseListen } from '../script/http-listen.js';
import { note } from './output.js';

export const defaultMetricsListen = '127.0.0.1:9189';
export const defaultDashboardListen = '127.0.0.1:8189';

const dbOption = () =>
  new Option('--db <connstr>', 'database to watch, libpq "key=value" string or URL (repeatable)')
    .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value])
    .default([] as string[], 'the libpq environment');

const listenOption = (fallback: string) =>
  new Option('--listen <[host:]port>', 'where to serve (0 = a free port)')
    .argParser((value: string) => parseListen(value, '--listen'))
    .default(parseListen(fallback, '--listen'), fallback);

interface ServeFlags {
  db: string[];
  listen: ListenAddress;
}

export function metricsCommand(): Command {
  return new Command('metrics')
    .description('Prometheus metrics of PgQ queues, consumers, cascade nodes and Londiste tables')
    .addOption(dbOption())
    .addOption(listenOption(defaultMetricsListen))
    .option('--once', 'print the metrics once on stdout and exit (no server)', false)
    .addHelpText('after', '\nEvery scrape of /metrics reads the databases. See docs/monitoring.md.')
    .action(async (flags: ServeFlags & { once: boolean }) => {
      // Loaded on use: prom-client is the heaviest module of the package.
      const { MonitorMetrics, serveMonitorMetrics } = await import('../monitor/index.js');
      const monitor = new Monitor(flags.db);
      if (flags.once) {
        try {
          const snapshot = await monitor.snapshot();
          process.stdout.write(await new MonitorMetrics().render(snapshot));
          const down = snapshot.databases.filter((db) => !db.up);
          for (const db of down) note(`skytools metrics: ${db.database}: ${db.error}`);
          if (down.length > 0) process.exitCode = 1;
        } finally {
          await monitor.close();
        }
        return;
      }
      await serveUntilStopped(
        monitor,
        () => serveMonitorMetrics(monitor, flags.listen, warn('metrics')),
        (url) => `skytools metrics: serving ${url}/metrics`,
      );
    });
}

export function dashboardCommand(): Command {
  return new Command('dashboard')
    .description('a live page of queues, consumers, the cascade tree and Londiste tables')
    .addOption(dbOption())
    .addOption(listenOption(defaultDashboardListen))
    .addHelpText('after', '\nRead-only. Ctrl-C stops it. See docs/monitoring.md.')
    .action(async (flags: ServeFlags) => {
      const { serveDashboard } = await import('../monitor/index.js');
      const monitor = new Monitor(flags.db);
      await serveUntilStopped(
        monitor,
        () => serveDashboard(monitor, flags.listen, { onError: warn('dashboard') }),
        (url) => `skytools dashboard: open ${url}/`,
      );
    });
}

export function muninCommand(): Command {
  return new Command('munin')
    .description(
      'Munin plugin: autoconf, suggest, config, or fetch (no argument); env.db names the database',
    )
    .argument('[mode]', 'autoconf, suggest, config or fetch', 'fetch')
    .option('--db <connstr>', 'the database (default: $db, as Munin sets it from env.db)')
    .option('--queue <name>', 'one queue only (as a symlink named pgq_<queue> does)')
    .addHelpText('after', '\nSee docs/monitoring.md for the symlink setup.')
    .action(async (mode: string, flags: { db?: string; queue?: string }) => {
      process.exitCode = await runMunin(mode, flags.db ?? process.env.db, flags.queue);
    });
}

/** The plugin run under Munin: `argv[1]`'s base name is `pgq` or `pgq_<queue>`. */
export function isMuninPluginName(script: string | undefined): boolean {
  if (script === undefined) return false;
  const name = path.basename(script);
  return name === 'pgq' || name === 'pgq_' || queueOfPluginName(name) !== null;
}

/** `argv` of a plugin run (`node /etc/munin/plugins/pgq_q config`); resolves with the exit code. */
export function runMuninPlugin(argv: string[]): Promise<number> {
  const name = path.basename(argv[1] ?? '');
  const queue = queueOfPluginName(name) ?? undefined;
  return runMunin(argv[2] ?? 'fetch', process.env.db, queue);
}

async function runMunin(mode: string, db: string | undefined, queue?: string): Promise<number> {
  const result = await muninRun(mode, db, queue);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  return result.code;
}

function warn(what: string): (error: unknown) => void {
  return (error) => note(`skytools ${what}: ${(error as Error).message}`);
}

/** Serve until SIGINT or SIGTERM, then close the server and the sessions. */
async function serveUntilStopped(
  monitor: Monitor,
  start: () => Promise<HttpEndpoint>,
  line: (url: string) => string,
): Promise<void> {
  let endpoint: HttpEndpoint;
  try {
    endpoint = await start();
  } catch (error) {
    await monitor.close();
    throw error;
  }
  note(line(endpoint.url));
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await endpoint.close();
  await monitor.close();
}
