/**
 * libpq's TLS modes against a server with `ssl = on` and a certificate signed by a CA made
 * here with openssl: verify-full checks the chain and the host name, verify-ca only the
 * chain, require nothing (unless a root certificate is given); sslrootcert is what is trusted.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openClient } from '../../src/db/connect.js';
import { SkytoolsError } from '../../src/errors.js';
import type { Cluster } from '../../src/pg/index.js';
import { serverAccount } from '../../src/pg/os-user.js';
import { useExtraClusters } from '../harness/clusters.js';
import { useTestDatabase } from '../harness/database.js';

const db = useTestDatabase();
const startCluster = useExtraClusters();
const dir = mkdtempSync(path.join(tmpdir(), 'skytools-tls-'));
const file = (name: string) => path.join(dir, name);
let cluster: Cluster;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function selfSignedCa(name: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    file(`${name}.key`),
    '-out',
    file(`${name}.crt`),
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
}

beforeAll(async () => {
  selfSignedCa('ca');
  selfSignedCa('other-ca');
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=db.skytools.test',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  );
  writeFileSync(file('san.cnf'), 'subjectAltName=DNS:db.skytools.test,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('san.cnf'),
    '-out',
    file('server.crt'),
  );
  // The server reads its key only if it owns it and no one else may read it.
  chmodSync(dir, 0o755);
  chmodSync(file('server.key'), 0o600);
  const account = serverAccount();
  if (account !== null) {
    for (const name of ['server.key', 'server.crt']) {
      chownSync(file(name), account.uid, account.gid);
    }
  }
  cluster = await startCluster({
    settings: {
      ssl: 'on',
      ssl_cert_file: `'${file('server.crt')}'`,
      ssl_key_file: `'${file('server.key')}'`,
    },
  });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));
// No ~/.postgresql of the machine's user may be read instead of the files given here.
beforeEach(() => vi.stubEnv('HOME', dir));
afterEach(() => vi.unstubAllEnvs());

const at = (host: string, extra: string) =>
  `host=${host} hostaddr=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres ${extra}`;

/** Whether the session opened with these settings is encrypted. */
async function tlsSession(connstring: string): Promise<boolean> {
  const client = await openClient(connstring, { applicationName: 'skytools tls test' });
  try {
    const { rows } = await client.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
    return rows[0].ssl;
  } finally {
    await client.end();
  }
}

describe('TLS modes', () => {
  it('verify-full accepts the host name in the certificate, signed by sslrootcert', async () => {
    expect(
      await tlsSession(at('db.skytools.test', `sslmode=verify-full sslrootcert=${file('ca.crt')}`)),
    ).toBe(true);
    const url = `postgresql://postgres@db.skytools.test:${cluster.port}/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=${encodeURIComponent(file('ca.crt'))}`;
    expect(await tlsSession(url)).toBe(true);
  });

  it('verify-full refuses a host name the certificate does not carry', async () => {
    await expect(
      tlsSession(at('wrong.skytools.test', `sslmode=verify-full sslrootcert=${file('ca.crt')}`)),
    ).rejects.toThrow(
      /cannot connect to postgres@wrong\.skytools\.test:\d+\/postgres: .*wrong\.skytools\.test/,
    );
  });

  it('verify-ca checks the chain but not the name', async () => {
    expect(
      await tlsSession(
        at('wrong.skytools.test', `sslmode=verify-ca sslrootcert=${file('ca.crt')}`),
      ),
    ).toBe(true);
  });

  it('sslrootcert is what is trusted: another CA is refused, in verify-ca and in require', async () => {
    for (const mode of ['verify-ca', 'verify-full', 'require']) {
      const error = await tlsSession(
        at('db.skytools.test', `sslmode=${mode} sslrootcert=${file('other-ca.crt')}`),
      ).catch((e: unknown) => e);
      expect(error, mode).toBeInstanceOf(SkytoolsError);
      expect((error as Error).message, mode).toMatch(/certificate/);
    }
  });

  it('require without a root certificate encrypts and verifies nothing', async () => {
    expect(await tlsSession(at('wrong.skytools.test', 'sslmode=require'))).toBe(true);
  });

  it('prefer and the default connect in plain text (pg cannot fall back)', async () => {
    expect(await tlsSession(at('db.skytools.test', 'sslmode=prefer'))).toBe(false);
    expect(await tlsSession(at('db.skytools.test', ''))).toBe(false);
  });

  it('require against a server without TLS is one line naming the server', async () => {
    const plain = `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user} dbname=postgres sslmode=require`;
    await expect(tlsSession(plain)).rejects.toThrow(
      /cannot connect to .*: The server does not support SSL connections/,
    );
  });
});
