/**
 * A cluster of the test file's own, with schema pgq installed in database `t`.
 *
 * Snapshots are cluster-wide: a transaction that another test file keeps open on the shared
 * cluster holds every tick's xmin back, and with it table rotation. Tests that assert when a
 * rotation happens therefore run alone on their own cluster; so do tests that need server
 * settings the shared cluster does not have (autovacuum off).
 */
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { installSchemas } from '../../src/db/installer.js';
import { Cluster } from '../../src/pg/index.js';

export interface PrivateDatabase {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** A connected client, closed after the file (or earlier by the test). */
  connect(): Promise<pg.Client>;
}

export function usePrivateDatabase(settings: Record<string, string> = {}): PrivateDatabase {
  const shared = inject('sharedCluster');
  let cluster: Cluster | undefined;
  let pool: pg.Pool | undefined;
  const clients: pg.Client[] = [];

  beforeAll(async () => {
    cluster = await Cluster.temporary({ pgBin: shared.binDir, settings });
    const admin = new pg.Client(cluster.connectionConfig());
    await admin.connect();
    try {
      await admin.query('create database t');
    } finally {
      await admin.end();
    }
    const installer = new pg.Client(cluster.connectionConfig('t'));
    await installer.connect();
    try {
      await installSchemas(installer, ['pgq']);
    } finally {
      await installer.end();
    }
    pool = new pg.Pool({ ...cluster.connectionConfig('t'), max: 4 });
    pool.on('error', () => {});
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end()));
    await pool?.end();
    await cluster?.stop({ mode: 'immediate' });
  });

  return {
    query(text, values) {
      if (!pool) throw new Error('private cluster not started');
      return pool.query(text, values);
    },
    async connect() {
      if (!cluster) throw new Error('private cluster not started');
      const client = new pg.Client(cluster.connectionConfig('t'));
      client.on('error', () => {});
      client.on('end', () => {
        const index = clients.indexOf(client);
        if (index >= 0) clients.splice(index, 1);
      });
      await client.connect();
      clients.push(client);
      return client;
    },
  };
}
