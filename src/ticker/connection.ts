/**
 * Connections of pgqd: `base_connstr` with the database added, one client per database,
 * with TCP keepalive so a vanished server is noticed, and a label for logs.
 */
import type pg from 'pg';
import { openClient as openSession } from '../db/connect.js';
import { type ConnectionConfig, parseConnString } from '../db/connstring.js';
import { SkytoolsError } from '../errors.js';

export function databaseConfig(base: string, database: string): ConnectionConfig {
  return { ...parseConnString(base), database };
}

/** `host:port` as pg will use it (libpq environment included), for log lines. */
export function hostLabel(config: pg.ClientConfig): string {
  if (config.connectionString) {
    const url = new URL(config.connectionString);
    return `${url.hostname || process.env.PGHOST || 'localhost'}:${url.port || process.env.PGPORT || 5432}`;
  }
  return `${config.host ?? process.env.PGHOST ?? 'localhost'}:${config.port ?? process.env.PGPORT ?? 5432}`;
}

/** pgqd's session to one database: named `pgqd` unless base_connstr names it; 30 s to connect. */
export async function openClient(config: ConnectionConfig): Promise<pg.Client> {
  try {
    return await openSession(config, {
      applicationName: config.application_name ?? 'pgqd',
      defaultConnectTimeout: 30,
    });
  } catch (error) {
    // pgqd's log lines name host and database already, and it acts on the server's
    // SQLSTATE (3D000: the database is gone), so it gets the driver's error itself.
    if (error instanceof SkytoolsError && error.code === 'CONNECT_FAILED') throw error.cause;
    throw error;
  }
}
