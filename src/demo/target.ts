import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { connectClient } from '../db/connect.js';
import { describeConnection, parseConnString, redact } from '../db/connstring.js';
import { Cluster } from '../pg/cluster.js';

/** Where the demo runs: its own temporary cluster, or a database the user named. */
export interface DemoTarget {
  /** Settings for the demo's clients (producer pool, consumers). */
  readonly config: pg.ClientConfig;
  /** What pgqd gets as base_connstr (it adds the database itself). */
  readonly baseConnstr: string;
  readonly label: string;
  readonly cluster: Cluster | null;
  /** A connected client for setup, reports and cleanup; closed by `close()`. */
  readonly admin: pg.Client;
  /** Close the admin client and stop the cluster; says what was removed or kept. */
  close(): Promise<string[]>;
}

/**
 * Start a temporary cluster (kept in its directory with `keep`), or connect to `db`.
 * A temporary cluster has a watcher that stops it should this process die; a kept one is started
 * with stopOnExit, so it too is not left running.
 */
export async function openTarget(
  db: string | undefined,
  keep: boolean,
  pgBin: string | undefined,
  note: (message: string) => void,
): Promise<DemoTarget> {
  if (db !== undefined) {
    const config = parseConnString(db);
    const admin = await connectClient(db, 'skytools-demo');
    return {
      config,
      baseConnstr: db,
      label: describeConnection(config),
      cluster: null,
      admin,
      close: async () => {
        await admin.end().catch(() => {});
        return [];
      },
    };
  }
  const bin = pgBin !== undefined ? { pgBin } : {};
  let cluster: Cluster;
  if (keep) {
    const dir = mkdtempSync(path.join(tmpdir(), 'skytools-demo-'));
    try {
      cluster = await Cluster.init({ dir, ...bin });
      await cluster.start({ stopOnExit: true });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  } else {
    cluster = await Cluster.temporary(bin);
  }
  note(`started PostgreSQL ${cluster.status().pgVersion} in ${cluster.dir}`);
  let admin: pg.Client;
  try {
    admin = await connectClient(cluster.connectionString(), 'skytools-demo');
  } catch (error) {
    await cluster.stop({ mode: 'immediate' }).catch(() => {});
    throw error;
  }
  const url = cluster.connectionString();
  return {
    config: cluster.connectionConfig(),
    baseConnstr: url,
    label: redact(url),
    cluster,
    admin,
    close: async () => {
      await admin.end().catch(() => {});
      await cluster.stop();
      return keep
        ? [
            `kept the cluster in ${cluster.dir} (stopped); start it with: npx skytools cluster start --dir ${cluster.dir}`,
          ]
        : [`removed the temporary cluster ${cluster.dir}`];
    },
  };
}
