/**
 * The one way skytools opens a PostgreSQL session (docs/connections.md): a libpq connect
 * string (key=value or URL) or pg settings in, a connected `pg.Client` (or a `pg.Pool`) out,
 * with TCP keepalive on, libpq's keepalive, timeout and TLS keywords honoured, the dead-link
 * check of `link-watch.ts`, an `error` listener attached (an idle session's failure must not
 * kill the process), the tool's `application_name` unless the connect string names one, and
 * failures that name the server but never the password.
 */
import { isIP } from 'node:net';
import pg from 'pg';
import { SkytoolsError } from '../errors.js';
import {
  type ConnectionConfig,
  describeConnection,
  type LinkKeywords,
  parseConnString,
} from './connstring.js';
import { type LinkWatchSettings, watchLink } from './link-watch.js';
import { tlsOptions } from './tls.js';

/** Where to connect: a libpq key=value string or URL, or pg client settings. */
export type ConnectionSource = string | ConnectionConfig;

/** Keepalive when the connect string says nothing: idle 30 s, then 3 probes 10 s apart. */
export const keepaliveDefaults = { idle: 30, interval: 10, count: 3 } as const;

export interface OpenOptions {
  /**
   * The tool's name for `application_name` (libpq's fallback_application_name): a connect
   * string's `application_name` or `PGAPPNAME` wins over it; for pg settings given as an
   * object it wins over theirs (a library user names the session with this option).
   */
  applicationName: string;
  /** Called once when the session fails or ends after it was opened. */
  onBroken?: () => void;
  /** What the connection is for, put before the server in a failure (`dst_db`). */
  purpose?: string;
  /** Connect timeout in seconds when the connect string gives none (libpq: none). */
  defaultConnectTimeout?: number;
}

export interface ResolvedConnection {
  /** Settings for `new pg.Client()`, TLS files read. */
  config: pg.ClientConfig;
  /** The dead-link check, or null when keepalive is off (keepalives=0). */
  watch: LinkWatchSettings | null;
  /** `user@host:port/db`, nothing secret. */
  label: string;
}

/** The pg settings and dead-link check that `source` stands for. */
export function resolveConnection(
  source: ConnectionSource | undefined,
  options: Pick<OpenOptions, 'applicationName' | 'defaultConnectTimeout'>,
): ResolvedConnection {
  const fromText = typeof source === 'string';
  const { libpq = {}, ...given } =
    source === undefined ? {} : fromText ? parseConnString(source) : source;
  const label = describeConnection(given);
  const config: pg.ClientConfig = { ...given };
  config.application_name = fromText
    ? (given.application_name ??
      process.env.PGAPPNAME ??
      libpq.fallbackApplicationName ??
      options.applicationName)
    : options.applicationName;
  const env = process.env;
  const timeout = env.PGCONNECT_TIMEOUT
    ? Number(env.PGCONNECT_TIMEOUT)
    : options.defaultConnectTimeout;
  if (config.connectionTimeoutMillis === undefined && timeout) {
    config.connectionTimeoutMillis = Math.max(timeout, 2) * 1000;
  }
  // Set even when off, so that pg never applies its own reading of PGSSLMODE.
  if (libpq.sslmode !== undefined || given.ssl === undefined) {
    config.ssl = tlsOptions(
      {
        ...libpq,
        sslmode: libpq.sslmode ?? (env.PGSSLMODE as LinkKeywords['sslmode']),
        sslrootcert: libpq.sslrootcert ?? env.PGSSLROOTCERT,
        sslcert: libpq.sslcert ?? env.PGSSLCERT,
        sslkey: libpq.sslkey ?? env.PGSSLKEY,
      },
      label,
    );
  }
  if (libpq.hostaddr !== undefined) {
    config.host = libpq.hostaddr;
    // TLS checks the certificate against the name the user gave, as libpq does.
    if (typeof config.ssl === 'object' && given.host !== undefined && isIP(given.host) === 0) {
      config.ssl = { ...config.ssl, servername: given.host };
    }
  }
  const keepalive = keepaliveSettings(libpq, given);
  config.keepAlive = keepalive !== null;
  if (keepalive !== null) config.keepAliveInitialDelayMillis = keepalive.idle * 1000;
  const silenceMs = libpq.tcpUserTimeout
    ? libpq.tcpUserTimeout
    : keepalive === null
      ? 0
      : (keepalive.idle + keepalive.interval * keepalive.count) * 1000;
  const probeConfig = { ...config, application_name: `${config.application_name} (link check)` };
  return { config, label, watch: silenceMs > 0 ? { silenceMs, probeConfig, label } : null };
}

function keepaliveSettings(libpq: LinkKeywords, given: pg.ClientConfig) {
  if (libpq.keepalives === false || given.keepAlive === false) return null;
  const idleMs = given.keepAliveInitialDelayMillis;
  return {
    idle: libpq.keepalivesIdle ?? (idleMs ? idleMs / 1000 : keepaliveDefaults.idle),
    interval: libpq.keepalivesInterval ?? keepaliveDefaults.interval,
    count: libpq.keepalivesCount ?? keepaliveDefaults.count,
  };
}

/**
 * Open one session. `source` undefined means the libpq environment alone, as psql does.
 * A failure is a SkytoolsError `CONNECT_FAILED` naming the server, never the password.
 */
export async function openClient(
  source: ConnectionSource | undefined,
  options: OpenOptions,
): Promise<pg.Client> {
  const { config, watch, label } = resolveConnection(source, options);
  const client = new pg.Client(config);
  let broken = false;
  const mark = () => {
    if (broken || options.onBroken === undefined) return;
    broken = true;
    options.onBroken();
  };
  // An idle session's failure must not crash the process: the next query reports it.
  client.on('error', mark);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw connectFailed(error, label, options.purpose);
  }
  client.on('end', mark);
  if (watch !== null) watchLink(client, watch);
  return client;
}

/** A pool whose sessions are opened as `openClient` opens one (no onBroken: pools replace them). */
export function openPool(
  source: ConnectionSource | undefined,
  options: OpenOptions & { max?: number },
): pg.Pool {
  const { config, watch } = resolveConnection(source, options);
  const pool = new pg.Pool({ ...config, ...(options.max ? { max: options.max } : {}) });
  pool.on('error', () => {}); // an idle pooled session that dies is dropped by the pool
  if (watch !== null) pool.on('connect', (client) => watchLink(client, watch));
  return pool;
}

/** `openClient` for a connect string (or the environment), without a broken callback. */
export function connectClient(
  connstring: string | undefined,
  applicationName = 'skytools',
): Promise<pg.Client> {
  return openClient(connstring, { applicationName });
}

function connectFailed(error: unknown, label: string, purpose?: string): SkytoolsError {
  if (error instanceof SkytoolsError) return error;
  const where = purpose === undefined ? label : `${purpose} (${label})`;
  return new SkytoolsError(
    'CONNECT_FAILED',
    `cannot connect to ${where}: ${(error as Error).message}`,
    error instanceof pg.DatabaseError ? { server: label, sqlstate: error.code } : { server: label },
    { cause: error },
  );
}
