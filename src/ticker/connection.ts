/**
 * Connections of pgqd: `base_connstr` with the database added, one client per database,
 * with TCP keepalive so a vanished server is noticed, and a label for logs.
 */
import pg from 'pg';
import { parseConnString } from '../db/connstring.js';

export function databaseConfig(base: string, database: string): pg.ClientConfig {
  const parsed = parseConnString(base);
  if (parsed.connectionString) {
    const url = new URL(parsed.connectionString);
    url.pathname = `/${encodeURIComponent(database)}`;
    return { connectionString: url.toString() };
  }
  return { ...parsed, database };
}

/** `host:port` as pg will use it (libpq environment included), for log lines. */
export function hostLabel(config: pg.ClientConfig): string {
  if (config.connectionString) {
    const url = new URL(config.connectionString);
    return `${url.hostname || process.env.PGHOST || 'localhost'}:${url.port || process.env.PGPORT || 5432}`;
  }
  return `${config.host ?? process.env.PGHOST ?? 'localhost'}:${config.port ?? process.env.PGPORT ?? 5432}`;
}

export async function openClient(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({
    application_name: 'pgqd',
    keepAlive: true,
    connectionTimeoutMillis: 30_000,
    ...config,
  });
  // An idle connection that dies must not crash the daemon: the next query reports it.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}
