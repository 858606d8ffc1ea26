/** The bundled scripts that `skytools <name>` runs as their own bins do. */
import { runDataMaintainer } from './data-maintainer.js';
import { runQueueLoader } from './queue-loader.js';
import { runQueueMover } from './queue-mover.js';
import { runQueueSplitter } from './queue-splitter.js';

export interface BundledTool {
  name: string;
  description: string;
  run(args: string[]): Promise<number>;
}

export const bundledTools: BundledTool[] = [
  {
    name: 'queue_mover',
    description: 'copy a queue into a queue of another database (same as the bin)',
    run: runQueueMover,
  },
  {
    name: 'queue_splitter',
    description: 'route a queue into queues of another database (same as the bin)',
    run: runQueueSplitter,
  },
  {
    name: 'queue_loader',
    description: 'load row events of a queue into tables (same as the bin)',
    run: runQueueLoader,
  },
  {
    name: 'data_maintainer',
    description: 'process a key list in small transactions (same as the bin)',
    run: runDataMaintainer,
  },
];
