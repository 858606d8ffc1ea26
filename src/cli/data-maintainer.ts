import { runDataMaintainer as run } from '../consumers/index.js';

/** The `data_maintainer` command (also `skytools data_maintainer`). */
export function runDataMaintainer(args: string[]): Promise<number> {
  return run(args);
}
