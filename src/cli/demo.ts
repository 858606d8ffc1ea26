import { Command, Option } from 'commander';
import { progressLine, runDemo, type Snapshot, screenLines, summaryLines } from '../demo/index.js';
import { demoDefaults, parseQueueName, parseRate, parseSeconds } from '../demo/options.js';
import { Monitor } from '../monitor/monitor.js';
import { type HttpEndpoint, parseListen } from '../script/http-listen.js';
import { createScriptLogger } from '../script/logger.js';
import { defaultDashboardListen } from './monitor.js';
import { note } from './output.js';

interface DemoFlags {
  db?: string;
  rate: number;
  duration: number;
  interval: number;
  keep: boolean;
  queue?: string;
  pgBin?: string;
  json: boolean;
  dashboard?: string | true;
}

export function demoCommand(): Command {
  return new Command('demo')
    .description(
      'see PgQ work: a temporary PostgreSQL (or --db), a queue, the ticker, a steady producer and two consumers, with live numbers; everything it made is removed at the end',
    )
    .addOption(
      new Option(
        '--db <connstr>',
        'use this database (libpq "key=value" string or URL) instead of a temporary cluster; pgq is installed if missing, the demo queue and consumers are removed at the end',
      ),
    )
    .addOption(
      new Option('--rate <n>', 'events produced per second')
        .argParser(parseRate)
        .default(demoDefaults.rate),
    )
    .addOption(
      new Option('--duration <seconds>', 'seconds to produce before stopping; 0 = until Ctrl-C')
        .argParser(parseSeconds('duration', true))
        .default(demoDefaults.duration),
    )
    .addOption(
      new Option('--interval <seconds>', 'seconds between progress updates')
        .argParser(parseSeconds('interval', false))
        .default(demoDefaults.interval),
    )
    .option(
      '--keep',
      'keep what the demo made: the temporary cluster (stopped, its directory is printed) or, with --db, the queue, consumers and tally table',
      false,
    )
    .addOption(
      new Option(
        '--queue <name>',
        'queue name (default: skytools_demo_ and a random suffix)',
      ).argParser(parseQueueName),
    )
    .addOption(
      new Option(
        '--pg-bin <dir>',
        'PostgreSQL server binaries for the temporary cluster (default: embedded PostgreSQL 18)',
      ).env('SKYTOOLS_PG_BIN'),
    )
    .option(
      '--dashboard [host:port]',
      `serve the live dashboard (skytools dashboard) on the demo's database (default ${defaultDashboardListen})`,
    )
    .option(
      '--json',
      'print the summary as one JSON object on stdout (progress goes to stderr)',
      false,
    )
    .addHelpText(
      'after',
      '\nCtrl-C stops the producer, lets the consumers catch up and cleans up; a second Ctrl-C stops at once.\nSee docs/demo.md.',
    )
    .action(async (flags: DemoFlags) => {
      await demo(flags);
    });
}

async function demo(flags: DemoFlags): Promise<void> {
  const stop = new AbortController();
  const stopNow = new AbortController();
  const onInt = () => {
    if (!stop.signal.aborted) {
      note('stopping: consumers catch up, then cleanup (Ctrl-C again to stop at once)');
      stop.abort();
    } else {
      note('stopping at once');
      stopNow.abort();
    }
  };
  const onTerm = () => {
    stop.abort();
    stopNow.abort();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const listen =
    flags.dashboard === undefined
      ? undefined
      : parseListen(
          flags.dashboard === true ? defaultDashboardListen : flags.dashboard,
          '--dashboard',
        );
  let dashboard: { monitor: Monitor; endpoint: HttpEndpoint | null } | undefined;
  const ready = async (where: { db: string; queue: string }) => {
    if (listen === undefined) return;
    const { serveDashboard } = await import('../monitor/dashboard/server.js');
    const monitor = new Monitor([where.db]);
    dashboard = { monitor, endpoint: null };
    dashboard.endpoint = await serveDashboard(monitor, listen, {
      title: `skytools demo: queue ${where.queue}`,
      onError: (error) => note(`dashboard: ${(error as Error).message}`),
    });
    note(`dashboard: open ${dashboard.endpoint.url}/`);
  };
  const log = createScriptLogger({ level: 'warn' });
  const screen = flags.json ? null : process.stdout.isTTY ? new Screen() : null;
  const progress = (snapshot: Snapshot) => {
    if (screen !== null) screen.draw(screenLines('skytools demo', snapshot));
    else if (snapshot.phase !== 'done') {
      const line = `${progressLine(snapshot)}\n`;
      if (flags.json) process.stderr.write(line);
      else process.stdout.write(line);
    }
  };
  try {
    const summary = await runDemo(
      {
        db: flags.db,
        rate: flags.rate,
        duration: flags.duration,
        interval: flags.interval,
        keep: flags.keep,
        queue: flags.queue,
        pgBin: flags.pgBin,
      },
      { progress, note, logger: log.logger, ready },
      { signal: stop.signal, stopNow: stopNow.signal },
    );
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else process.stdout.write(`${summaryLines(summary).join('\n')}\n`);
  } finally {
    await dashboard?.endpoint?.close();
    await dashboard?.monitor.close();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    log.close();
  }
}

/** Redraws the progress block in place on a terminal. */
class Screen {
  #lines = 0;

  draw(lines: string[]): void {
    const up = this.#lines > 0 ? `\x1b[${this.#lines}A\r\x1b[J` : '';
    process.stdout.write(`${up}${lines.join('\n')}\n`);
    this.#lines = lines.length;
  }
}
