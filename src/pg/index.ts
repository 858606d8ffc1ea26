export { type PgBinaries, resolvePgBinaries } from './binaries.js';
export {
  Cluster,
  type ClusterInitOptions,
  type ClusterOpenOptions,
  type ClusterState,
  type ClusterStatus,
  superuser,
} from './cluster.js';
export { ClusterError, type ClusterErrorCode } from './errors.js';
export { findFreePort, isPortInUse } from './ports.js';
