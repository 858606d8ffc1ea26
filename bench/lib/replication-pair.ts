import pg from 'pg';
import { quoteIdent } from '../../src/db/quote.js';
import { Cluster } from '../../src/pg/index.js';

// The replication workloads' two servers: the source (Londiste root and the publication) and
// the target (Londiste leaf and the subscription), throwaway clusters with the bench settings.

/** One of the two servers: its cluster and the bench database on it. */
export interface ReplicationNode {
  readonly cluster: Cluster;
  readonly config: pg.ClientConfig;
  /** libpq key=value string of the bench database, for a subscription or an INI. */
  readonly location: string;
  /** A new connected client of the bench database; the caller ends it. */
  connect(): Promise<pg.Client>;
}

export interface ReplicationPair {
  readonly source: ReplicationNode;
  readonly target: ReplicationNode;
  /** Runs `cleanup` at close, before the servers stop (last registered first). */
  onClose(cleanup: () => Promise<void>): void;
  close(): Promise<void>;
}

export function locationOf(config: pg.ClientConfig): string {
  return `host=${config.host} port=${config.port} user=${config.user} dbname=${config.database}`;
}

/** Both clusters started, each with `database` created in it. */
export async function startReplicationPair(
  database: string,
  settings: Record<string, string>,
  log: (line: string) => void,
): Promise<ReplicationPair> {
  log('starting two throwaway clusters for the replication workloads (source and target)');
  const all = {
    ...settings,
    max_replication_slots: '20',
    max_wal_senders: '20',
  };
  const started: Cluster[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      started.push(await Cluster.temporary({ fsync: true, settings: all }));
    }
    const pair = await pairOf(started[0] as Cluster, started[1] as Cluster, database, log);
    return {
      ...pair,
      close: async () => {
        try {
          await pair.close();
        } finally {
          for (const cluster of started) await cluster.stop({ mode: 'fast' });
        }
      },
    };
  } catch (error) {
    for (const cluster of started) await cluster.stop({ mode: 'immediate' });
    throw error;
  }
}

/**
 * A pair on two running clusters, `database` created fresh in each; its close runs the
 * cleanups registered by onClose and leaves the clusters running.
 */
export async function pairOf(
  sourceCluster: Cluster,
  targetCluster: Cluster,
  database: string,
  log: (line: string) => void,
): Promise<ReplicationPair> {
  const source = await openNode(sourceCluster, database, log);
  const target = await openNode(targetCluster, database, log);
  const cleanups: (() => Promise<void>)[] = [];
  return {
    source,
    target,
    onClose: (cleanup) => cleanups.push(cleanup),
    close: async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    },
  };
}

async function openNode(
  cluster: Cluster,
  database: string,
  log: (line: string) => void,
): Promise<ReplicationNode> {
  const admin = new pg.Client(cluster.connectionConfig());
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${quoteIdent(database)} with (force)`);
    await admin.query(`create database ${quoteIdent(database)}`);
  } finally {
    await admin.end();
  }
  const config = cluster.connectionConfig(database);
  return {
    cluster,
    config,
    location: locationOf(config),
    connect: async () => {
      const client = new pg.Client({ ...config, application_name: 'skytools-bench' });
      client.on('error', (error) => log(`bench: connection lost: ${error.message}`));
      await client.connect();
      return client;
    },
  };
}
