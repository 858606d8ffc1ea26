import type { ClientConfig } from 'pg';
import { SkytoolsError } from '../errors.js';

/**
 * Parse a connection string as libpq does: a URL (`postgresql://...`, handed to pg as is) or
 * `key=value` pairs separated by spaces, values optionally single-quoted, `\'` and `\\` escaped.
 * SkyTools INI files and node locations use the second form, which pg cannot read itself.
 * Whatever the string leaves out comes from the libpq environment (PGHOST, PGPORT, PGUSER,
 * PGDATABASE, PGPASSWORD, PGPASSFILE), which pg reads on connect.
 */
export function parseConnString(text: string): ClientConfig {
  const trimmed = text.trim();
  if (/^postgres(ql)?:\/\//.test(trimmed)) return { connectionString: trimmed };
  const config: ClientConfig & Record<string, unknown> = {};
  for (const [key, value] of tokenize(trimmed)) applyKey(config, key, value, text);
  return config;
}

function* tokenize(text: string): Generator<[string, string]> {
  let i = 0;
  const fail = (why: string): never => {
    throw new SkytoolsError('BAD_CONNSTRING', `invalid connection string: ${why}`, {
      connstring: redact(text),
    });
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

function applyKey(config: Record<string, unknown>, key: string, value: string, text: string): void {
  switch (key) {
    case 'host':
    case 'hostaddr':
      config.host = value;
      return;
    case 'port':
      if (!/^\d+$/.test(value)) {
        throw new SkytoolsError(
          'BAD_CONNSTRING',
          `invalid connection string: port "${value}" is not a number`,
          {
            connstring: redact(text),
          },
        );
      }
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
      config.connectionTimeoutMillis = Number(value) * 1000;
      return;
    case 'sslmode':
      if (value === 'disable' || value === 'allow' || value === 'prefer') return;
      config.ssl = value === 'require' ? { rejectUnauthorized: false } : true;
      return;
    case 'passfile':
    case 'fallback_application_name':
    case 'keepalives':
    case 'target_session_attrs':
      return; // accepted for compatibility; pg has no equivalent or reads it elsewhere
    default:
      throw new SkytoolsError(
        'BAD_CONNSTRING',
        `invalid connection string: unknown keyword "${key}"`,
        {
          connstring: redact(text),
        },
      );
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
