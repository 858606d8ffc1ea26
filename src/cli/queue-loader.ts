import { queueLoaderTool, runConsumerTool } from '../consumers/index.js';

/** The `queue_loader` command (also `skytools queue_loader`). */
export function runQueueLoader(args: string[]): Promise<number> {
  return runConsumerTool(queueLoaderTool, args);
}
