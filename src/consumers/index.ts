export { urldecode } from '../pgq/urlencode.js';
export {
  type BatchContext,
  type BatchProcessor,
  ConsumerJob,
  type ProcessorFactory,
} from './consumer-job.js';
export {
  type DataMaintainerSettings,
  loadDataMaintainerSettings,
} from './data-maintainer/settings.js';
export { runDataMaintainer } from './data-maintainer/tool.js';
export { bindDstQuery, compileDstQuery, type DstQuery } from './dst-query.js';
export { type ConsumerTool, runConsumerTool, type ToolCommand } from './job-cli.js';
export { type JobSettings, jobKeys, loadJobSettings } from './job-settings.js';
export { type EventParams, eventParams, payloadColumns } from './payload.js';
export {
  loadQueueLoaderSettings,
  type QueueLoaderSettings,
} from './queue-loader/settings.js';
export {
  loadQueueMoverSettings,
  loadQueueSplitterSettings,
  QueueMoveProcessor,
  type QueueMoverSettings,
} from './queue-mover.js';
export { queueLoaderTool, queueMoverTool, queueSplitterTool } from './queue-tools.js';
export { simpleConsumerTool, simpleLocalConsumerTool } from './tools.js';
