import { runConsumerTool, simpleConsumerTool } from '../consumers/index.js';

/** The `simple_consumer` command (also `skytools simple_consumer`). */
export function runSimpleConsumer(args: string[]): Promise<number> {
  return runConsumerTool(simpleConsumerTool, args);
}
