/**
 * simple_local_consumer (upstream simple_local_consumer3): simple_consumer's work read through
 * the library's LocalConsumer, so the position is also kept in `local_tracking_file`. A batch
 * the file already covers is skipped; one that does not follow the file's tick is a lost
 * position; at start and after every crash the queue is moved to the file's tick.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type ConsumerOptions, LocalConsumer } from '../pgq/index.js';
import type { BatchProcessor, BatchSource } from './consumer-job.js';
import {
  DstQueryProcessor,
  loadSimpleConsumerSettings,
  type SimpleConsumerSettings,
  simpleConsumerKeys,
} from './simple-consumer.js';

export interface SimpleLocalConsumerSettings extends SimpleConsumerSettings {
  readonly localTrackingFile: string;
}

export const simpleLocalConsumerKeys = [...simpleConsumerKeys, 'local_tracking_file'];

// A retried event would be lost when the process dies after the file write: the file then
// says the batch is done and the batch, with its retries, is dropped on restart.
const perEventRetryKeys = ['max_retries', 'dead_letter_queue', 'retry_delay'];

export function loadSimpleLocalConsumerSettings(cf: Config): SimpleLocalConsumerSettings {
  for (const key of perEventRetryKeys) {
    if (cf.has(key)) {
      throw cf.error(
        key,
        `${key} is not supported by simple_local_consumer: events cannot go to the retry queue when local_tracking_file keeps the position (a failing batch is tried again whole after exception_sleep)`,
      );
    }
  }
  const settings = loadSimpleConsumerSettings(cf);
  const localTrackingFile = cf.getFile('local_tracking_file');
  if (localTrackingFile === '' || localTrackingFile === '-') {
    throw cf.error('local_tracking_file', 'local_tracking_file needs a file name');
  }
  return { ...settings, localTrackingFile };
}

/** The library consumer of the job, also used by --rewind and --reset. */
export function localConsumer(
  settings: SimpleLocalConsumerSettings,
  options: Partial<ConsumerOptions> = {},
): LocalConsumer {
  return new LocalConsumer({
    ...settings.consumerOptions,
    connection: settings.srcDb,
    queue: settings.queue,
    consumer: settings.consumer,
    applicationName: `simple_local_consumer ${settings.jobName}`,
    ...options,
    trackingFile: settings.localTrackingFile,
  });
}

export function simpleLocalConsumerSource(
  options: ConsumerOptions,
  settings: SimpleLocalConsumerSettings,
): BatchSource {
  return localConsumer(settings, options);
}

export function simpleLocalConsumerProcessor(
  settings: SimpleLocalConsumerSettings,
  _log: Logger,
): BatchProcessor {
  return new DstQueryProcessor(settings, `simple_local_consumer ${settings.jobName}`);
}
