export { type DashboardOptions, serveDashboard } from './dashboard/server.js';
export { DatabaseReader } from './database-reader.js';
export { type MetricSpec, MonitorMetrics, metricSpecs } from './metrics.js';
export { serveMonitorMetrics } from './metrics-server.js';
export { databaseLabels, Monitor } from './monitor.js';
export {
  type MuninMode,
  type MuninResult,
  muninAutoconf,
  muninLines,
  muninName,
  muninRun,
  muninSuggest,
  queueOfPluginName,
} from './munin.js';
export type {
  CascadeConsumerSample,
  ConsumerSample,
  DatabaseSnapshot,
  MonitorSnapshot,
  NodeSample,
  QueueSample,
  TableSample,
} from './snapshot.js';
