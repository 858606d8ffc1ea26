export type { BatchStatsHook, CascadedBatchStats } from './batch-stats.js';
export {
  type CascadedBatch,
  CascadedConsumer,
  type CascadedConsumerOptions,
  type CascadedEventHandler,
  type CascadedHandlerContext,
} from './cascaded-consumer.js';
export { CascadedWorker, type CascadedWorkerOptions } from './cascaded-worker.js';
export { CascadeError } from './node-calls.js';
export type { CopyKind } from './worker-batch.js';
export type { BatchContext, CascadeWorkerHooks, SessionRole } from './worker-hooks.js';
