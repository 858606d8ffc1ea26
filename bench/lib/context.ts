import os from 'node:os';
import pg from 'pg';
import { parseConnString } from '../../src/db/connstring.js';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import { Cluster } from '../../src/pg/index.js';
import { type ReplicationPair, startReplicationPair } from './replication-pair.js';

/** What every workload gets: where to connect, how long to run, where to report progress. */
export interface BenchContext {
  /** Connection settings of the benchmark database. */
  config: pg.ClientConfig;
  /** A new connected client of the benchmark database; the caller ends it. */
  connect(): Promise<pg.Client>;
  quick: boolean;
  /** Samples per side. */
  repeat: number;
  log(line: string): void;
  /**
   * Two clusters of their own for the replication workloads (root and publisher on the
   * first, leaf and subscriber on the second), started at the first call and stopped with
   * the server; with `--db`, the reason they cannot run.
   */
  replicationPair(): Promise<ReplicationPair | string>;
}

/** Where the benchmarks run, and how to clean up after. */
export interface BenchServer {
  config: pg.ClientConfig;
  machine: Record<string, string | number>;
  replicationPair(): Promise<ReplicationPair | string>;
  close(): Promise<void>;
}

export const benchDatabase = 'skytools_bench';

/**
 * The same settings for every workload and its baseline: fsync on, synchronous_commit off, so
 * the ratios show server work rather than disk flushes; WAL sized so no checkpoint is forced by
 * volume in the middle of a sample.
 */
export const benchSettings: Record<string, string> = {
  synchronous_commit: 'off',
  shared_buffers: "'256MB'",
  max_wal_size: "'2GB'",
  checkpoint_timeout: "'15min'",
};

/** A throwaway cluster of our own, or the server named by `--db`. */
export async function openBenchServer(
  db: string | undefined,
  log: (line: string) => void,
): Promise<BenchServer> {
  if (db !== undefined) {
    const config = parseConnString(db);
    await install(config);
    return {
      config,
      machine: await describeMachine(config),
      replicationPair: async () =>
        'needs two clusters of its own (root/publisher and leaf/subscriber): not with --db',
      close: async () => {},
    };
  }
  log('starting a throwaway PostgreSQL cluster (fsync on, synchronous_commit off)');
  const cluster = await Cluster.temporary({ fsync: true, settings: benchSettings });
  try {
    const admin = new pg.Client(cluster.connectionConfig());
    await admin.connect();
    await admin.query(`create database ${quoteIdent(benchDatabase)}`);
    await admin.end();
    const config = cluster.connectionConfig(benchDatabase);
    await install(config);
    let pair: Promise<ReplicationPair> | undefined;
    return {
      config,
      machine: await describeMachine(config),
      replicationPair: () => {
        pair ??= startReplicationPair(benchDatabase, benchSettings, log);
        return pair;
      },
      close: async () => {
        const started = await pair?.catch(() => undefined);
        await started?.close();
        await cluster.stop({ mode: 'fast' });
      },
    };
  } catch (error) {
    await cluster.stop({ mode: 'immediate' });
    throw error;
  }
}

async function install(config: pg.ClientConfig): Promise<void> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    await installSchemas(client, ['pgq']);
  } finally {
    await client.end();
  }
}

async function describeMachine(config: pg.ClientConfig): Promise<Record<string, string | number>> {
  const client = new pg.Client(config);
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; setting: string }>(
      `select name, current_setting(name) as setting from pg_settings
        where name in ('server_version', 'fsync', 'synchronous_commit', 'shared_buffers',
                       'max_wal_size', 'work_mem', 'autovacuum', 'jit')`,
    );
    const settings = Object.fromEntries(rows.map((row) => [`pg_${row.name}`, row.setting]));
    const cpus = os.cpus();
    return {
      cpus: cpus.length,
      cpu_model: cpus[0]?.model ?? 'unknown',
      memory_gib: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      node: process.version,
      ...settings,
    };
  } finally {
    await client.end();
  }
}

export function contextFor(
  server: BenchServer,
  options: { quick: boolean; repeat: number; log: (line: string) => void },
): BenchContext {
  return {
    config: server.config,
    connect: async () => {
      const client = new pg.Client({ ...server.config, application_name: 'skytools-bench' });
      // A server stopped under an idle client (after a failed workload) must not crash the
      // run before its error is reported.
      client.on('error', (error) => options.log(`bench: connection lost: ${error.message}`));
      await client.connect();
      return client;
    },
    replicationPair: () => server.replicationPair(),
    ...options,
  };
}
