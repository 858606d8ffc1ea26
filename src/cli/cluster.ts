import { Command, Option } from 'commander';
import { SkytoolsError } from '../errors.js';
import { Cluster, type ClusterStatus } from '../pg/cluster.js';
import { note, parsePort } from './output.js';

/** Exit codes of `cluster status`, as pg_ctl status uses them, plus one for a crashed server. */
export const statusExitCodes = { running: 0, stopped: 3, stale: 4 } as const;

const dirOption = () =>
  new Option('--dir <dir>', 'cluster directory (holds data/, server.log, skytools-cluster.json)')
    .env('SKYTOOLS_CLUSTER_DIR')
    .makeOptionMandatory();
const pgBinOption = () =>
  new Option(
    '--pg-bin <dir>',
    'directory of PostgreSQL server binaries (default: embedded PostgreSQL 18)',
  ).env('SKYTOOLS_PG_BIN');
const portOption = (what: string) => new Option('--port <port>', what).argParser(parsePort);

export function clusterCommand(): Command {
  const command = new Command('cluster').description(
    'create, start, stop and inspect a local PostgreSQL server in a directory',
  );
  command
    .command('init')
    .description('create a new cluster in an empty or new directory (does not start it)')
    .addOption(dirOption())
    .addOption(portOption('pin the port (default: a free port, chosen now)'))
    .addOption(pgBinOption())
    .option('--no-fsync', 'turn fsync off: faster, not crash safe (tests only)')
    .option('--set <name=value...>', 'extra postgresql.conf setting (repeatable)')
    .action(
      async (opts: {
        dir: string;
        port?: number;
        pgBin?: string;
        fsync: boolean;
        set?: string[];
      }) => {
        const cluster = await Cluster.init({
          dir: opts.dir,
          fsync: opts.fsync,
          settings: parseSettings(opts.set ?? []),
          log: note,
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.pgBin !== undefined ? { pgBin: opts.pgBin } : {}),
        });
        note(
          `cluster ready in ${cluster.dir}; start it with: skytools cluster start --dir ${cluster.dir}`,
        );
      },
    );
  command
    .command('start')
    .description('start the server and wait until it accepts connections')
    .addOption(dirOption())
    .addOption(portOption('listen on this port from now on'))
    .addOption(pgBinOption())
    .action(async (opts: { dir: string; port?: number; pgBin?: string }) => {
      const cluster = await open(opts);
      await cluster.start(opts.port !== undefined ? { port: opts.port } : {});
      process.stdout.write(`${cluster.connectionString()}\n`);
    });
  command
    .command('stop')
    .description('stop the server (fast: open transactions are rolled back)')
    .addOption(dirOption())
    .addOption(pgBinOption())
    .addOption(
      new Option('--mode <mode>', 'shutdown mode')
        .choices(['smart', 'fast', 'immediate'])
        .default('fast'),
    )
    .action(async (opts: { dir: string; pgBin?: string; mode: 'smart' | 'fast' | 'immediate' }) => {
      const cluster = await open(opts);
      if (!(await cluster.stop({ mode: opts.mode })))
        note(`server in ${cluster.dir} was not running`);
    });
  command
    .command('status')
    .description(
      'show whether the server runs; exit 0 running, 3 stopped, 4 crashed (stale pid file)',
    )
    .addOption(dirOption())
    .addOption(pgBinOption())
    .option('--json', 'print the status as JSON')
    .action(async (opts: { dir: string; pgBin?: string; json?: boolean }) => {
      const cluster = await open(opts);
      const status = cluster.status();
      process.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : describe(cluster, status));
      process.exitCode = statusExitCodes[status.state];
    });
  return command;
}

function open(opts: { dir: string; pgBin?: string }): Promise<Cluster> {
  return Cluster.open(opts.dir, {
    log: note,
    ...(opts.pgBin !== undefined ? { pgBin: opts.pgBin } : {}),
  });
}

function describe(cluster: Cluster, status: ClusterStatus): string {
  const lines = [`cluster:  ${status.dir}`, `version:  PostgreSQL ${status.pgVersion}`];
  if (status.state === 'running') {
    lines.push(`state:    running (pid ${status.pid})`, `connect:  ${cluster.connectionString()}`);
  } else if (status.state === 'stale') {
    lines.push(
      `state:    not running; stale postmaster.pid (pid ${status.pid}): the server crashed or was killed`,
      `          'skytools cluster start' recovers it; see ${status.logFile}`,
    );
  } else {
    lines.push('state:    stopped', `port:     ${status.port}`);
  }
  return `${lines.join('\n')}\n`;
}

function parseSettings(pairs: string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new SkytoolsError('BAD_OPTION', `--set needs name=value, got "${pair}"`);
    }
    settings[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return settings;
}
