import type pg from 'pg';
import pino from 'pino';
import { Pgqd, type PgqdOptions, type PgqdSettings, pgqdSettings } from '../../src/ticker/index.js';

/** pgqd's base_connstr for the server of `config` (the database is given separately). */
export function baseConnstr(config: pg.ClientConfig): string {
  // A URL keeps its own form: pgqd replaces the path with each database's name.
  if (config.connectionString) return config.connectionString;
  const parts: string[] = [];
  for (const key of ['host', 'port', 'user', 'password'] as const) {
    const value = config[key];
    if (typeof value === 'string' || typeof value === 'number') {
      parts.push(`${key}='${String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`);
    }
  }
  return parts.join(' ');
}

function databaseName(config: pg.ClientConfig): string | undefined {
  if (config.database) return config.database;
  if (!config.connectionString) return undefined;
  const name = decodeURIComponent(new URL(config.connectionString).pathname.slice(1));
  return name || undefined;
}

export interface RunningTicker {
  daemon: Pgqd;
  stop(): Promise<void>;
}

/** An in-process pgqd on the bench database only, with the given settings over the defaults. */
export function startTicker(
  config: pg.ClientConfig,
  overrides: Partial<PgqdSettings> = {},
  onTick?: PgqdOptions['onTick'],
): RunningTicker {
  const database = databaseName(config);
  if (!database) throw new Error('bench: the benchmark connection names no database');
  const settings = pgqdSettings({
    baseConnstr: baseConnstr(config),
    databaseList: [database],
    ...overrides,
  });
  const daemon = new Pgqd(settings, { logger: pino({ level: 'silent' }), onTick });
  const controller = new AbortController();
  const running = daemon.start(controller.signal);
  // A failure shows when stop() awaits it; until then it must not be an unhandled rejection.
  running.catch(() => {});
  return {
    daemon,
    stop: async () => {
      controller.abort();
      await running;
    },
  };
}
