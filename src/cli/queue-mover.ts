import { queueMoverTool, runConsumerTool } from '../consumers/index.js';

/** The `queue_mover` command (also `skytools queue_mover`). */
export function runQueueMover(args: string[]): Promise<number> {
  return runConsumerTool(queueMoverTool, args);
}
