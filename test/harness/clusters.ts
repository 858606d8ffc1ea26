import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, inject } from 'vitest';
import { Cluster, type ClusterInitOptions } from '../../src/pg/index.js';

/**
 * Extra throwaway clusters for multi-node tests (cascade, walmgr), with the same binaries as
 * the run's shared cluster. Every cluster started through the returned function is stopped
 * and removed after the file, whatever its tests did.
 */
export function useExtraClusters(): (
  options?: Omit<ClusterInitOptions, 'dir'>,
) => Promise<Cluster> {
  const { binDir } = inject('sharedCluster');
  const started: Cluster[] = [];
  afterAll(async () => {
    await Promise.all(started.splice(0).map((cluster) => cluster.stop({ mode: 'immediate' })));
  });
  return async (options = {}) => {
    const cluster = await Cluster.temporary({ pgBin: binDir, ...options });
    started.push(cluster);
    return cluster;
  };
}

/**
 * Extra clusters a test may restart (see {@link restart}): kept ones in a temporary directory,
 * since a throwaway cluster's directory goes with its first stop. Never restart the run's
 * shared cluster: other files use it. Stopped and removed after the file.
 */
export function useRestartableClusters(): (
  options?: Omit<ClusterInitOptions, 'dir'>,
) => Promise<Cluster> {
  const { binDir } = inject('sharedCluster');
  const started: { cluster: Cluster; dir: string }[] = [];
  afterAll(async () => {
    await Promise.all(
      started.splice(0).map(async ({ cluster, dir }) => {
        await cluster.stop({ mode: 'immediate' });
        rmSync(dir, { recursive: true, force: true });
      }),
    );
  });
  return async (options = {}) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skytools-restart-'));
    const cluster = await Cluster.init({ fsync: false, pgBin: binDir, ...options, dir });
    started.push({ cluster, dir });
    await cluster.start({ stopOnExit: true });
    return cluster;
  };
}

/**
 * Restart a cluster of {@link useRestartableClusters} as `pg_ctl restart` does: a fast
 * shutdown (every session ends, open transactions roll back), then a start on the same port.
 */
export async function restart(cluster: Cluster): Promise<void> {
  await cluster.stop({ mode: 'fast' });
  await cluster.start({ port: cluster.port, stopOnExit: true });
}
