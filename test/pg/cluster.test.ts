import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Cluster, ClusterError } from '../../src/pg/index.js';
import { isRoot } from '../../src/pg/os-user.js';

const { binDir } = inject('sharedCluster');
const scratch = mkdtempSync(path.join(tmpdir(), 'skytools-cluster-test-'));
chmodSync(scratch, 0o755); // the server's OS user must reach the clusters inside
const clusters: Cluster[] = [];
/** Servers these tests start are shut down by a watcher should this test process die. */
const watched = { stopOnExit: true };
afterAll(async () => {
  await Promise.all(clusters.map((cluster) => cluster.stop({ mode: 'immediate' })));
  rmSync(scratch, { recursive: true, force: true });
});

/** A cluster directory under the file's scratch folder, stopped after the file. */
async function initCluster(name: string, options: { port?: number } = {}): Promise<Cluster> {
  const cluster = await Cluster.init({
    dir: path.join(scratch, name),
    pgBin: binDir,
    fsync: false,
    ...options,
  });
  clusters.push(cluster);
  return cluster;
}

async function queryOne(cluster: Cluster, sql: string): Promise<unknown> {
  const client = new pg.Client(cluster.connectionConfig());
  await client.connect();
  try {
    return (await client.query(sql)).rows[0];
  } finally {
    await client.end();
  }
}

/** Occupy a port the way another program would. */
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    release: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function expectClusterError(promise: Promise<unknown>, code: string, message: RegExp) {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ClusterError);
  expect((error as ClusterError).code).toBe(code);
  expect((error as ClusterError).message).toMatch(message);
}

describe('Cluster lifecycle', () => {
  it('initializes, starts, stops and restarts keeping its data', async () => {
    const cluster = await initCluster('lifecycle');
    expect(cluster.status().state).toBe('stopped');
    await cluster.start(watched);
    expect(cluster.status().state).toBe('running');
    expect(await queryOne(cluster, "select current_setting('wal_level') as wal_level")).toEqual({
      wal_level: 'logical',
    });
    const client = new pg.Client(cluster.connectionConfig());
    await client.connect();
    await client.query('create table kept (id int); insert into kept values (42)');
    await client.end();

    expect(await cluster.stop()).toBe(true);
    expect(cluster.status().state).toBe('stopped');
    expect(await cluster.stop()).toBe(false);

    const reopened = await Cluster.open(cluster.dir);
    await reopened.start(watched);
    expect(reopened.port).toBe(cluster.port);
    expect(await queryOne(reopened, 'select id from kept')).toEqual({ id: 42 });
    // Starting a running cluster is a safe no-op.
    const again = await reopened.start(watched);
    expect(again.state).toBe('running');
    await reopened.stop();
  });

  it('applies the WAL and test settings it promises', async () => {
    const cluster = await initCluster('settings');
    await cluster.start(watched);
    const settings = await queryOne(
      cluster,
      `select current_setting('listen_addresses') as listen,
              current_setting('max_wal_senders')::int > 0 as senders,
              current_setting('max_replication_slots')::int > 0 as slots,
              current_setting('max_prepared_transactions')::int > 0 as prepared,
              current_setting('fsync') as fsync,
              current_setting('max_connections')::int as max_connections`,
    );
    expect(settings).toEqual({
      listen: '127.0.0.1',
      senders: true,
      slots: true,
      prepared: true,
      fsync: 'off',
      max_connections: 300,
    });
    await cluster.stop();
  });

  it('runs two clusters side by side', async () => {
    const [first, second] = await Promise.all([initCluster('side-a'), initCluster('side-b')]);
    await Promise.all([first.start(watched), second.start(watched)]);
    expect(first.port).not.toBe(second.port);
    const [a, b] = await Promise.all([
      queryOne(first, "select current_setting('data_directory') as dir"),
      queryOne(second, "select current_setting('data_directory') as dir"),
    ]);
    expect(a).toEqual({ dir: first.paths.dataDir });
    expect(b).toEqual({ dir: second.paths.dataDir });
    await Promise.all([first.stop(), second.stop()]);
  });

  it('reports a crashed server as stale and recovers it on start', async () => {
    const cluster = await initCluster('crash');
    const { pid } = await cluster.start(watched);
    process.kill(pid as number, 'SIGKILL');
    await expect.poll(() => cluster.status().state, { timeout: 10_000 }).toBe('stale');
    expect(cluster.status().pid).toBe(pid);

    const messages: string[] = [];
    const reopened = await Cluster.open(cluster.dir, { log: (line) => messages.push(line) });
    const restarted = await reopened.start(watched);
    expect(restarted.state).toBe('running');
    expect(restarted.pid).not.toBe(pid);
    expect(messages.join('\n')).toMatch(/postmaster\.pid of a server that is no longer running/);
    await reopened.stop();
  });

  it('throwaway clusters remove their directory when stopped', async () => {
    const cluster = await Cluster.temporary({ pgBin: binDir });
    expect(existsSync(cluster.paths.dataDir)).toBe(true);
    await cluster.stop();
    expect(existsSync(cluster.dir)).toBe(false);
  });
});

describe('Cluster bad input', () => {
  it('refuses a --pg-bin directory without server binaries and creates nothing', async () => {
    const dir = path.join(scratch, 'bad-bin');
    await expectClusterError(
      Cluster.init({ dir, pgBin: scratch }),
      'BAD_BIN_DIR',
      /^no PostgreSQL server binaries in .*: missing initdb, pg_ctl, postgres$/,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a directory that holds something else and leaves it untouched', async () => {
    const dir = path.join(scratch, 'occupied');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'precious.txt'), 'keep me');
    await expectClusterError(
      Cluster.init({ dir, pgBin: binDir }),
      'DIR_NOT_EMPTY',
      /is not empty and is not a skytools cluster/,
    );
    await expectClusterError(Cluster.open(dir), 'NOT_A_CLUSTER', /is not a skytools cluster/);
    expect(readFileSync(path.join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('refuses a port already in use, at init and at start', async () => {
    const held = await holdPort();
    try {
      const dir = path.join(scratch, 'port-init');
      await expectClusterError(
        Cluster.init({ dir, pgBin: binDir, port: held.port }),
        'PORT_IN_USE',
        new RegExp(`^port ${held.port} on 127\\.0\\.0\\.1 is already in use`),
      );
      expect(existsSync(dir)).toBe(false);

      const pinned = await initCluster('port-start');
      await expectClusterError(
        pinned.start({ ...watched, port: held.port }),
        'PORT_IN_USE',
        /already in use/,
      );
      expect(pinned.status().state).toBe('stopped');
    } finally {
      await held.release();
    }
  });

  it('moves an unpinned port that another program took', async () => {
    const cluster = await initCluster('port-moves');
    const originalPort = cluster.port;
    await cluster.start(watched);
    await cluster.stop();
    const squatter = net.createServer();
    await new Promise<void>((resolve) =>
      squatter.listen({ host: '127.0.0.1', port: originalPort }, resolve),
    );
    try {
      await cluster.start(watched);
      expect(cluster.port).not.toBe(originalPort);
      await cluster.stop();
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('refuses a data directory owned by another user', async () => {
    const cluster = await initCluster('owner');
    const owner = isRoot() ? 65534 : null; // nobody
    if (owner === null) {
      // Without root we cannot give the directory away; pretend we are someone else instead.
      const realGetuid = process.getuid;
      process.getuid = () => (realGetuid?.() ?? 0) + 1;
      try {
        await expectClusterError(
          cluster.start(watched),
          'WRONG_OWNER',
          /is owned by .*, but the server would run as/,
        );
      } finally {
        process.getuid = realGetuid;
      }
      return;
    }
    const { uid, gid } = { uid: owner, gid: owner };
    chownSync(cluster.paths.dataDir, uid, gid);
    await expectClusterError(
      cluster.start(watched),
      'WRONG_OWNER',
      /is owned by nobody, but the server would run as skytools/,
    );
    expect(cluster.status().state).toBe('stopped');
  });

  it.runIf(isRoot())(
    'refuses a directory the server user cannot reach, leaving nothing behind',
    async () => {
      const privateParent = path.join(scratch, 'private');
      mkdirSync(privateParent, { mode: 0o700 });
      const dir = path.join(privateParent, 'cluster');
      await expectClusterError(
        Cluster.init({ dir, pgBin: binDir }),
        'DIR_NOT_ACCESSIBLE',
        /^OS user "skytools" cannot write .* \(a parent directory is private\)/,
      );
      expect(existsSync(dir)).toBe(false);
    },
  );

  it('refuses binaries of another major than the data directory', async () => {
    const cluster = await initCluster('major');
    const metaFile = cluster.paths.metadataFile;
    const versionFile = cluster.paths.versionFile;
    const real = readFileSync(versionFile, 'utf8');
    writeFileSync(versionFile, '9\n');
    try {
      await expectClusterError(
        Cluster.open(cluster.dir),
        'VERSION_MISMATCH',
        /belongs to PostgreSQL 9, but the binaries/,
      );
    } finally {
      writeFileSync(versionFile, real);
    }
    expect(existsSync(metaFile)).toBe(true);
  });
});
