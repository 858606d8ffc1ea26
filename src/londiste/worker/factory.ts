/** The Londiste worker from its settings: filled in by the worker work. */
import { CascadedWorker } from '../../cascade/cascaded-worker.js';
import type { WorkerFactory } from '../../cascade/worker-job.js';
import type { LondisteSettings } from '../settings.js';

export const createLondisteWorker: WorkerFactory<LondisteSettings> = (options) =>
  new CascadedWorker(options);

export const workerHelp = 'worker: replay the tables of this node.';
