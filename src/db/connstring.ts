import type { ClientConfig } from 'pg';
import { SkytoolsError } from '../errors.js';

/** libpq's TLS modes (`sslmode`). */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

/**
 * The libpq keywords `pg` has no setting for, as parsed; the opener (`openClient` in
 * `connect.ts`) turns them into TLS options, socket keepalive and the dead-link check.
 * Durations are kept in libpq's units: seconds, but `tcpUserTimeout` in milliseconds.
 */
export interface LinkKeywords {
  /** The address to connect to; `host` then names the server for TLS checks and labels. */
  hostaddr?: string;
  sslmode?: SslMode;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  sslpassword?: string;
  keepalives?: boolean;
  keepalivesIdle?: number;
  keepalivesInterval?: number;
  keepalivesCount?: number;
  tcpUserTimeout?: number;
  fallbackApplicationName?: string;
}

/** pg client settings plus the libpq keywords pg cannot take itself. */
export interface ConnectionConfig extends ClientConfig {
  libpq?: LinkKeywords;
}

/**
 * Parse a connection string as libpq does: a URL (`postgresql://user:pw@host:port/db?key=value`)
 * or `key=value` pairs separated by spaces, values optionally single-quoted, `\'` and `\\`
 * escaped. SkyTools INI files and node locations use the second form, which pg cannot read
 * itself; URLs are read here too, so that one mapping of keywords serves both.
 * Whatever the string leaves out comes from the libpq environment (PGHOST, PGPORT, PGUSER,
 * PGDATABASE, PGPASSWORD, PGPASSFILE, PGAPPNAME), which pg reads on connect.
 */
export function parseConnString(text: string): ConnectionConfig {
  const trimmed = text.trim();
  const config: ConnectionConfig & Record<string, unknown> = {};
  const pairs = /^postgres(ql)?:\/\//.test(trimmed) ? urlPairs(trimmed, text) : tokenize(trimmed);
  for (const [key, value] of pairs) applyKey(config, key, value, text);
  return config;
}

function badConnstring(why: string, text: string): SkytoolsError {
  return new SkytoolsError('BAD_CONNSTRING', `invalid connection string: ${why}`, {
    connstring: redact(text),
  });
}

/** The keywords a URL stands for; query parameters are keywords as in key=value strings. */
function urlPairs(url: string, text: string): [string, string][] {
  let parsed: URL;
  try {
    // A URL class cannot read an empty host (`postgresql:///db`): give it a placeholder.
    parsed = new URL(url.replace(/^(postgres(?:ql)?:\/\/)(?=[/?]|$)/, '$1__nohost__'));
  } catch {
    throw badConnstring('malformed URL (several hosts are not supported)', text);
  }
  const pairs: [string, string][] = [];
  const host = decodeURIComponent(parsed.hostname).replace(/^\[(.*)\]$/, '$1');
  if (host !== '' && host !== '__nohost__') pairs.push(['host', host]);
  if (parsed.port !== '') pairs.push(['port', parsed.port]);
  if (parsed.username !== '') pairs.push(['user', decodeURIComponent(parsed.username)]);
  if (parsed.password !== '') pairs.push(['password', decodeURIComponent(parsed.password)]);
  const dbname = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (dbname !== '') pairs.push(['dbname', dbname]);
  for (const [key, value] of parsed.searchParams) pairs.push([key, value]);
  return pairs;
}

function* tokenize(text: string): Generator<[string, string]> {
  let i = 0;
  const fail = (why: string): never => {
    throw badConnstring(why, text);
  };
  while (i < text.length) {
    while (/\s/.test(text[i] ?? '')) i++;
    if (i >= text.length) return;
    const keyStart = i;
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i] as string)) i++;
    const key = text.slice(keyStart, i);
    while (/\s/.test(text[i] ?? '')) i++;
    if (key === '' || text[i] !== '=')
      fail(`expected key=value at "${text.slice(keyStart, keyStart + 20)}"`);
    i++;
    while (/\s/.test(text[i] ?? '')) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= text.length) fail(`unterminated quoted value for "${key}"`);
        const ch = text[i] as string;
        if (ch === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (ch === "'") {
          i++;
          break;
        } else {
          value += ch;
          i++;
        }
      }
    } else {
      while (i < text.length && !/\s/.test(text[i] as string)) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
    }
    yield [key, value];
  }
}

export const sslModes: readonly string[] = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
] satisfies SslMode[];

function applyKey(config: ConnectionConfig, key: string, value: string, text: string): void {
  const libpq = (): LinkKeywords => {
    config.libpq ??= {};
    return config.libpq;
  };
  const count = (min: number): number => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min) {
      throw badConnstring(`${key} "${value}" is not a whole number >= ${min}`, text);
    }
    return Number(value);
  };
  switch (key) {
    case 'host':
      config.host = value;
      return;
    case 'hostaddr':
      libpq().hostaddr = value;
      return;
    case 'port':
      if (!/^\d+$/.test(value)) throw badConnstring(`port "${value}" is not a number`, text);
      config.port = Number(value);
      return;
    case 'dbname':
      config.database = value;
      return;
    case 'user':
    case 'password':
    case 'application_name':
    case 'options':
      config[key] = value;
      return;
    case 'connect_timeout':
      // libpq: 0 waits forever, and anything below 2 s counts as 2 s.
      config.connectionTimeoutMillis = count(0) === 0 ? 0 : Math.max(count(0), 2) * 1000;
      return;
    case 'sslmode':
      if (!sslModes.includes(value)) {
        throw badConnstring(`sslmode "${value}" is not one of ${sslModes.join(', ')}`, text);
      }
      libpq().sslmode = value as SslMode;
      return;
    case 'sslrootcert':
    case 'sslcert':
    case 'sslkey':
    case 'sslpassword':
      libpq()[key] = value;
      return;
    case 'keepalives':
      libpq().keepalives = count(0) !== 0;
      return;
    case 'keepalives_idle':
      libpq().keepalivesIdle = count(1);
      return;
    case 'keepalives_interval':
      libpq().keepalivesInterval = count(1);
      return;
    case 'keepalives_count':
      libpq().keepalivesCount = count(1);
      return;
    case 'tcp_user_timeout':
      libpq().tcpUserTimeout = count(0);
      return;
    case 'fallback_application_name':
      libpq().fallbackApplicationName = value;
      return;
    case 'passfile':
    case 'target_session_attrs':
    case 'sslcompression':
    case 'gssencmode':
      return; // accepted for compatibility; see docs/connections.md
    default:
      throw badConnstring(`unknown keyword "${key}"`, text);
  }
}

/** The connection string with any password hidden, for logs and errors. */
export function redact(text: string): string {
  return text
    .replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***')
    .replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

/** A short label for logs: `user@host:port/db`, nothing secret. */
export function describeConnection(config: ClientConfig): string {
  if (config.connectionString) return redact(config.connectionString);
  const env = process.env;
  const user = config.user ?? env.PGUSER ?? '';
  const host = config.host ?? env.PGHOST ?? 'localhost';
  const port = config.port ?? env.PGPORT ?? 5432;
  const database = config.database ?? env.PGDATABASE ?? user;
  return `${user ? `${user}@` : ''}${host}:${port}/${database}`;
}
