/**
 * A throwaway cluster of another major version than `major`: Debian's PostgreSQL 15 beside
 * the embedded 18, or the embedded one when the run's cluster is 15 (SKYTOOLS_PG_BIN then
 * names 15 and is set aside to find it). Stopped after the file.
 */
import { afterAll } from 'vitest';
import { Cluster, resolvePgBinaries } from '../../src/pg/index.js';

const debian15 = '/usr/lib/postgresql/15/bin';

export function useClusterOfVersion(): (major: number) => Promise<Cluster> {
  const started: Cluster[] = [];
  afterAll(async () => {
    await Promise.all(started.splice(0).map((cluster) => cluster.stop({ mode: 'immediate' })));
  });
  return async (major) => {
    const pgBin = major === 15 ? await embeddedBinDir() : debian15;
    const cluster = await Cluster.temporary({ pgBin });
    started.push(cluster);
    return cluster;
  };
}

async function embeddedBinDir(): Promise<string> {
  const saved = process.env.SKYTOOLS_PG_BIN;
  delete process.env.SKYTOOLS_PG_BIN;
  try {
    return (await resolvePgBinaries()).dir;
  } finally {
    if (saved !== undefined) process.env.SKYTOOLS_PG_BIN = saved;
  }
}
