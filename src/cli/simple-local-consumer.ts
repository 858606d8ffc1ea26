import { runConsumerTool, simpleLocalConsumerTool } from '../consumers/index.js';

/** The `simple_local_consumer` command (also `skytools simple_local_consumer`). */
export function runSimpleLocalConsumer(args: string[]): Promise<number> {
  return runConsumerTool(simpleLocalConsumerTool, args);
}
