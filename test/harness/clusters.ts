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
