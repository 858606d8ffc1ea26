import { queueSplitterTool, runConsumerTool } from '../consumers/index.js';

/** The `queue_splitter` command (also `skytools queue_splitter`). */
export function runQueueSplitter(args: string[]): Promise<number> {
  return runConsumerTool(queueSplitterTool, args);
}
