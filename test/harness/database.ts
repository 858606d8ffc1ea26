import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import { quoteIdent } from '../../src/db/quote.js';
import type { SharedCluster } from './shared.js';

/** A fresh database of the run's cluster, owned by one test file. */
export interface TestDatabase {
  readonly name: string;
  readonly cluster: SharedCluster;
  /** libpq URL of the database. */
  readonly url: string;
  /** Settings for `new pg.Client()`; clients made from them must be closed by the test. */
  config(overrides?: pg.ClientConfig): pg.ClientConfig;
  /** A pool closed by the harness after the file. */
  pool(overrides?: pg.PoolConfig): pg.Pool;
  /** A connected client closed by the harness after the file. */
  connect(overrides?: pg.ClientConfig): Promise<pg.Client>;
  /**
   * Another database on the run's cluster, dropped after the file: empty (`template0`) unless
   * `template` names one. Returns its name.
   */
  createDatabase(suffix: string, options?: { template?: string; owner?: string }): Promise<string>;
  /** One query on the file's shared pool. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

/**
 * Give the calling test file its own database, cloned from the run's template before the
 * first test and dropped after the last. Connections a test opens itself and leaves open
 * fail the file: leaked connections hide bugs that production would hit.
 */
export function useTestDatabase(): TestDatabase {
  const cluster = inject('sharedCluster');
  const name = databaseName(expect.getState().testPath ?? 'test');
  const config = (overrides: pg.ClientConfig = {}): pg.ClientConfig => ({
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    database: name,
    application_name: 'skytools-test',
    ...overrides,
  });
  const owned: { end(): Promise<void> }[] = [];
  const extraDatabases: string[] = [];
  let shared: pg.Pool | undefined;
  const pool = (overrides: pg.PoolConfig = {}) => {
    const created = new pg.Pool({ ...config(), ...overrides });
    created.on('error', () => {}); // idle clients killed by the server are replaced on next use
    owned.push(created);
    return created;
  };

  beforeAll(async () => {
    await cloneDatabase(
      cluster,
      `create database ${quoteIdent(name)} template ${quoteIdent(cluster.templateDatabase)}`,
    );
  });
  afterAll(async () => {
    await Promise.all(owned.splice(0).map((resource) => resource.end()));
    for (const extra of extraDatabases) {
      await adminQuery(cluster, `drop database if exists ${quoteIdent(extra)} with (force)`);
    }
    const leaked = await openConnections(cluster, name);
    await adminQuery(cluster, `drop database ${quoteIdent(name)} with (force)`);
    if (leaked.rowCount) {
      throw new Error(
        `test file left ${leaked.rowCount} connection(s) open to ${name}: ${JSON.stringify(leaked.rows)}`,
      );
    }
  });

  return {
    name,
    cluster,
    url: `postgresql://${cluster.user}@${cluster.host}:${cluster.port}/${encodeURIComponent(name)}`,
    config,
    pool,
    async connect(overrides = {}) {
      const client = new pg.Client(config(overrides));
      client.on('error', () => {});
      await client.connect();
      owned.push(client);
      return client;
    },
    async createDatabase(suffix, options = {}) {
      const extra = `${name}_${suffix}`.slice(0, 63);
      const owner = options.owner ? ` owner ${quoteIdent(options.owner)}` : '';
      const template = quoteIdent(options.template ?? 'template0');
      await cloneDatabase(
        cluster,
        `create database ${quoteIdent(extra)} template ${template}${owner}`,
      );
      extraDatabases.push(extra);
      return extra;
    },
    query(text, values) {
      shared ??= pool();
      return shared.query(text, values);
    },
  };
}

/** `t_<file>_<random>`: readable in pg_stat_activity, unique across parallel files. */
function databaseName(testPath: string): string {
  const base = path
    .basename(testPath)
    .replace(/\.test\.ts$/, '')
    .replace(/[^a-z0-9]+/gi, '_');
  const suffix = Math.random().toString(36).slice(2, 8);
  return `t_${base.toLowerCase().slice(0, 40)}_${suffix}`;
}

async function adminQuery(cluster: SharedCluster, text: string, values?: unknown[]) {
  const client = new pg.Client({
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    database: 'postgres',
    application_name: 'skytools-test-harness',
  });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/**
 * CREATE DATABASE fails with 55006 while any session is in the template (a parallel clone of
 * template0 can be one for an instant): wait a little and try again.
 */
async function cloneDatabase(cluster: SharedCluster, statement: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await adminQuery(cluster, statement);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * Connections still open to `database`. A backend whose client has just disconnected can be
 * listed for a moment while it exits, so only what is still there after a short wait counts.
 */
async function openConnections(cluster: SharedCluster, database: string) {
  const query =
    'select pid, application_name, state, query from pg_stat_activity where datname = $1';
  for (let waited = 0; ; waited += 100) {
    const result = await adminQuery(cluster, query, [database]);
    if (!result.rowCount || waited >= 3000) return result;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
