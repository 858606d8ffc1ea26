/**
 * libpq's `sslmode` and certificate keywords as the `ssl` setting of pg. The meanings follow
 * libpq's, not pg's own URL reading (which treats `require` as `verify-full`):
 * - `disable`, `allow`, `prefer`: no TLS (pg cannot fall back from one to the other, so the
 *   modes that would try plain text are plain text);
 * - `require`: encrypted, nothing verified, unless a root certificate is given: then as `verify-ca`;
 * - `verify-ca`: the server's chain must lead to the root certificate; the host name is not checked;
 * - `verify-full`: the chain and the host name (or IP address) must both match.
 * The root certificate is `sslrootcert`, else `~/.postgresql/root.crt`; `sslrootcert=system`
 * takes the system's trusted CAs (as libpq 16 does). A client certificate (`sslcert`, `sslkey`,
 * default `~/.postgresql/postgresql.crt` and `.key` when both exist) is sent in every mode.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { SkytoolsError } from '../errors.js';
import { type LinkKeywords, sslModes } from './connstring.js';

function libpqFile(name: string): string {
  return path.join(process.env.HOME ?? homedir(), '.postgresql', name);
}

function readPem(file: string, what: string, server: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new SkytoolsError(
      'TLS_FILE_UNREADABLE',
      `cannot connect to ${server}: cannot read ${what} ${file}: ${(error as Error).message}`,
      { server, file },
      { cause: error },
    );
  }
}

/** pg's `ssl` setting for these keywords; `false` for no TLS. Reads the certificate files. */
export function tlsOptions(libpq: LinkKeywords, server: string): ConnectionOptions | false {
  const mode = libpq.sslmode ?? 'prefer';
  if (!sslModes.includes(mode)) {
    throw new SkytoolsError('BAD_CONNSTRING', `invalid sslmode "${mode}" (from PGSSLMODE)`, {
      server,
    });
  }
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  const options: ConnectionOptions = {};
  const certFile = libpq.sslcert ?? libpqFile('postgresql.crt');
  const keyFile = libpq.sslkey ?? libpqFile('postgresql.key');
  if (libpq.sslcert !== undefined || libpq.sslkey !== undefined || existsSync(certFile)) {
    if (libpq.sslcert !== undefined || existsSync(keyFile)) {
      options.cert = readPem(certFile, 'the client certificate (sslcert)', server);
      options.key = readPem(keyFile, 'the client key (sslkey)', server);
      if (libpq.sslpassword !== undefined) options.passphrase = libpq.sslpassword;
    }
  }
  const rootFile = libpq.sslrootcert ?? libpqFile('root.crt');
  const haveRoot = libpq.sslrootcert !== undefined || existsSync(rootFile);
  let verify: 'none' | 'ca' | 'full' = mode === 'verify-full' ? 'full' : 'ca';
  if (mode === 'require' && !haveRoot) verify = 'none';
  if (verify === 'none') return { ...options, rejectUnauthorized: false };
  if (!haveRoot) {
    throw new SkytoolsError(
      'TLS_FILE_UNREADABLE',
      `cannot connect to ${server}: sslmode=${mode} needs a root certificate, and ${rootFile} does not exist (give sslrootcert=FILE, or sslrootcert=system for the system's CAs)`,
      { server, file: rootFile },
    );
  }
  if (rootFile !== 'system')
    options.ca = readPem(rootFile, 'the root certificate (sslrootcert)', server);
  options.rejectUnauthorized = true;
  // verify-ca: the chain is checked by rejectUnauthorized; the name is not.
  if (verify === 'ca') options.checkServerIdentity = () => undefined;
  return options;
}
