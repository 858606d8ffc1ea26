export { DatabaseWorker, type WorkerState } from './database-worker.js';
export { Pgqd, type PgqdOptions, type PgqdStats } from './pgqd.js';
export { runPgqdJob } from './pgqd-job.js';
export {
  loadPgqdSettings,
  type PgqdSettings,
  pgqdDefaults,
  pgqdSettings,
  sampleIni,
  settingsFromConfig,
} from './settings.js';
