/**
 * How the libpq keywords of a connect string become pg settings, TLS options and the
 * dead-link check (src/db/connect.ts, docs/connections.md). No server needed: what reaches
 * a server is tested in connect-server.test.ts and connect-tls.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keepaliveDefaults, resolveConnection } from '../../src/db/connect.js';
import { SkytoolsError } from '../../src/errors.js';

const dir = mkdtempSync(path.join(tmpdir(), 'skytools-keywords-'));
const rootcert = path.join(dir, 'root.crt');
writeFileSync(rootcert, 'not parsed here');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// No ~/.postgresql of the machine's user may change what these tests see.
beforeEach(() => vi.stubEnv('HOME', dir));
afterEach(() => vi.unstubAllEnvs());

const resolve = (connstring: string, applicationName = 'tool') =>
  resolveConnection(connstring, { applicationName });

describe('keepalive keywords', () => {
  it('keepalive is on by default: idle 30 s, a stuck query checked after 60 s of silence', () => {
    const { config, watch } = resolve('host=h dbname=d');
    expect(config.keepAlive).toBe(true);
    expect(config.keepAliveInitialDelayMillis).toBe(keepaliveDefaults.idle * 1000);
    expect(watch?.silenceMs).toBe(60_000);
  });

  it('keepalives_idle sets the socket delay; idle + interval x count bounds the check', () => {
    const { config, watch } = resolve(
      'host=h keepalives_idle=5 keepalives_interval=2 keepalives_count=4',
    );
    expect(config.keepAliveInitialDelayMillis).toBe(5000);
    expect(watch?.silenceMs).toBe(5000 + 2 * 4 * 1000);
  });

  it('tcp_user_timeout (ms) bounds the check instead', () => {
    expect(resolve('host=h tcp_user_timeout=2500 keepalives_idle=9').watch?.silenceMs).toBe(2500);
  });

  it('keepalives=0 turns keepalive and the check off, unless tcp_user_timeout asks for it', () => {
    const off = resolve('host=h keepalives=0');
    expect(off.config.keepAlive).toBe(false);
    expect(off.watch).toBeNull();
    expect(resolve('host=h keepalives=0 tcp_user_timeout=3000').watch?.silenceMs).toBe(3000);
  });

  it('the check runs with the same server, user and TLS, under its own name', () => {
    const { watch } = resolve('host=h port=7 user=u dbname=d password=pw sslmode=require');
    expect(watch?.probeConfig).toMatchObject({
      host: 'h',
      port: 7,
      user: 'u',
      database: 'd',
      password: 'pw',
      ssl: { rejectUnauthorized: false },
      application_name: 'tool (link check)',
    });
  });

  it('refuses values that are no whole numbers, naming the keyword', () => {
    for (const bad of ['keepalives_idle=0', 'keepalives_count=x', 'tcp_user_timeout=-1']) {
      expect(() => resolve(`host=h ${bad}`), bad).toThrow(SkytoolsError);
      expect(() => resolve(`host=h ${bad}`), bad).toThrow(bad.split('=')[0] as string);
    }
  });
});

describe('connect_timeout', () => {
  it('is seconds, at least 2 as in libpq; 0 or none waits as long as the kernel does', () => {
    expect(resolve('host=h connect_timeout=1').config.connectionTimeoutMillis).toBe(2000);
    expect(resolve('host=h connect_timeout=10').config.connectionTimeoutMillis).toBe(10_000);
    expect(resolve('host=h connect_timeout=0').config.connectionTimeoutMillis).toBe(0);
    expect(resolve('host=h').config.connectionTimeoutMillis).toBeUndefined();
  });

  it('PGCONNECT_TIMEOUT or the tool default apply when the string gives none', () => {
    expect(
      resolveConnection('host=h', { applicationName: 'pgqd', defaultConnectTimeout: 30 }).config
        .connectionTimeoutMillis,
    ).toBe(30_000);
    vi.stubEnv('PGCONNECT_TIMEOUT', '4');
    expect(resolve('host=h').config.connectionTimeoutMillis).toBe(4000);
  });
});

describe('application_name', () => {
  it("is the tool's name unless the connect string or PGAPPNAME names the session", () => {
    expect(resolve('host=h', 'pgqd').config.application_name).toBe('pgqd');
    expect(resolve('host=h application_name=mine', 'pgqd').config.application_name).toBe('mine');
    expect(resolve('host=h fallback_application_name=fb', 'pgqd').config.application_name).toBe(
      'fb',
    );
    vi.stubEnv('PGAPPNAME', 'from-env');
    expect(resolve('host=h', 'pgqd').config.application_name).toBe('from-env');
  });

  it('for pg settings given as an object, the applicationName option names it', () => {
    const { config } = resolveConnection(
      { host: 'h', application_name: 'base' },
      { applicationName: 'consumer c' },
    );
    expect(config.application_name).toBe('consumer c');
  });
});

describe('sslmode', () => {
  it('disable, allow and prefer connect without TLS (pg cannot fall back)', () => {
    for (const mode of ['disable', 'allow', 'prefer']) {
      expect(resolve(`host=h sslmode=${mode}`).config.ssl, mode).toBe(false);
    }
    expect(resolve('host=h').config.ssl).toBe(false);
  });

  it('require encrypts without verifying, unless a root certificate is given', () => {
    expect(resolve('host=h sslmode=require').config.ssl).toEqual({ rejectUnauthorized: false });
    const ssl = resolve(`host=h sslmode=require sslrootcert=${rootcert}`).config.ssl;
    expect(ssl).toMatchObject({ rejectUnauthorized: true, ca: Buffer.from('not parsed here') });
    expect(typeof (ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBe('function');
  });

  it('verify-ca checks the chain, not the name; verify-full both', () => {
    const ca = resolve(`host=h sslmode=verify-ca sslrootcert=${rootcert}`).config.ssl as Record<
      string,
      unknown
    >;
    expect(ca.rejectUnauthorized).toBe(true);
    expect((ca.checkServerIdentity as () => unknown)()).toBeUndefined();
    const full = resolve(`host=h sslmode=verify-full sslrootcert=${rootcert}`).config.ssl as Record<
      string,
      unknown
    >;
    expect(full.rejectUnauthorized).toBe(true);
    expect(full.checkServerIdentity).toBeUndefined();
    expect(full.ca).toEqual(Buffer.from('not parsed here'));
  });

  it('sslrootcert=system takes the system CAs', () => {
    const ssl = resolve('host=h sslmode=verify-full sslrootcert=system').config.ssl;
    expect(ssl).toEqual({ rejectUnauthorized: true });
  });

  it('with hostaddr, TLS checks the certificate against host, as libpq does', () => {
    const { config, label } = resolve(
      `host=db.example hostaddr=10.1.2.3 sslmode=verify-full sslrootcert=${rootcert}`,
    );
    expect(config.host).toBe('10.1.2.3');
    expect(config.ssl).toMatchObject({ servername: 'db.example' });
    expect(label).toContain('db.example');
  });

  it('client certificate and key are read from sslcert and sslkey', () => {
    const cert = path.join(dir, 'client.crt');
    const key = path.join(dir, 'client.key');
    writeFileSync(cert, 'CERT');
    writeFileSync(key, 'KEY');
    expect(
      resolve(`host=h sslmode=require sslcert=${cert} sslkey=${key} sslpassword=pp`).config.ssl,
    ).toEqual({
      rejectUnauthorized: false,
      cert: Buffer.from('CERT'),
      key: Buffer.from('KEY'),
      passphrase: 'pp',
    });
  });

  it('a missing file or unknown mode is one line naming it, never the password', () => {
    const missing = path.join(dir, 'nope.crt');
    expect(() =>
      resolve(`host=h password=hunter2 sslmode=verify-ca sslrootcert=${missing}`),
    ).toThrow(`cannot read the root certificate (sslrootcert) ${missing}`);
    expect(() => resolve('host=h password=hunter2 sslmode=verify-full')).toThrow(
      /sslmode=verify-full needs a root certificate, and .*root\.crt does not exist/,
    );
    expect(() => resolve('host=h password=hunter2 sslmode=paranoid')).toThrow(
      /sslmode "paranoid" is not one of disable, allow, prefer, require, verify-ca, verify-full/,
    );
    try {
      resolve(`host=h password=hunter2 sslmode=verify-ca sslrootcert=${missing}`);
    } catch (error) {
      expect(String(error)).not.toContain('hunter2');
      expect(JSON.stringify((error as SkytoolsError).context)).not.toContain('hunter2');
    }
  });

  it('PGSSLMODE and PGSSLROOTCERT apply when the string says nothing', () => {
    vi.stubEnv('PGSSLMODE', 'verify-ca');
    vi.stubEnv('PGSSLROOTCERT', rootcert);
    expect(resolve('host=h').config.ssl).toMatchObject({ rejectUnauthorized: true });
    expect(resolve('host=h sslmode=disable').config.ssl).toBe(false);
  });
});
