/**
 * simple_local_consumer (upstream simple_local_consumer3): simple_consumer's work with the
 * position also kept in `local_tracking_file`, as upstream's LocalConsumer does. A batch the
 * file already covers is skipped; one that does not follow the file's tick is a lost position.
 * At start and after every crash the queue is moved to the file's tick.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { SkytoolsError } from '../errors.js';
import type { Batch } from '../pgq/index.js';
import type { BatchContext, BatchProcessor } from './consumer-job.js';
import { syncPosition, TrackingFile } from './local-tracking.js';
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

export function loadSimpleLocalConsumerSettings(cf: Config): SimpleLocalConsumerSettings {
  const settings = loadSimpleConsumerSettings(cf);
  const localTrackingFile = cf.getFile('local_tracking_file');
  if (localTrackingFile === '' || localTrackingFile === '-') {
    throw cf.error('local_tracking_file', 'local_tracking_file needs a file name');
  }
  return { ...settings, localTrackingFile };
}

const appName = (settings: SimpleLocalConsumerSettings) =>
  `simple_local_consumer ${settings.jobName}`;

class LocalProcessor implements BatchProcessor {
  readonly #inner: DstQueryProcessor;
  readonly #tracking: TrackingFile;

  constructor(
    private readonly settings: SimpleLocalConsumerSettings,
    private readonly log: Logger,
  ) {
    this.#inner = new DstQueryProcessor(settings, appName(settings));
    this.#tracking = new TrackingFile(settings.localTrackingFile);
  }

  async prepare(): Promise<void> {
    await syncQueue(this.settings, this.#tracking, this.log);
  }

  async process(batch: Batch, context: BatchContext): Promise<boolean> {
    const done = this.#tracking.read();
    const { tickId, prevTickId } = batch.info;
    if (done === tickId) {
      // The work is done, only the queue did not hear of it: read through, then finish.
      for await (const _event of batch) context.stats.increase('skipped');
      context.log.info(
        { batch: batch.id, tick: tickId },
        `batch ${batch.id} already processed (${this.#tracking.file} is at its tick): skipped`,
      );
      return true;
    }
    if (done !== prevTickId) {
      throw new SkytoolsError(
        'LOST_POSITION',
        `Lost position: batch ${batch.id} covers ticks ${prevTickId}..${tickId} but ${this.#tracking.file} says ${done ?? 'nothing (file missing)'}`,
        { queue: batch.queue, consumer: batch.consumer, batch: batch.id, tick: done },
      );
    }
    if (!(await this.#inner.process(batch, context))) return false;
    this.#tracking.write(tickId);
    return true;
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** Move the queue to the file's position (or start the file); logs what it did. */
export async function syncQueue(
  settings: SimpleLocalConsumerSettings,
  tracking: TrackingFile,
  log: Logger,
): Promise<void> {
  const result = await syncPosition(
    settings.srcDb,
    settings.queue,
    settings.consumer,
    tracking,
    appName(settings),
  );
  if (result.action === 'created') {
    log.info({ tick: result.tick }, `${tracking.file} started at tick ${result.tick}`);
  } else if (result.action === 'repositioned') {
    log.warn(
      { from: result.from, tick: result.tick },
      `consumer moved from tick ${result.from} to tick ${result.tick} of ${tracking.file}`,
    );
  }
}

export function simpleLocalConsumerProcessor(
  settings: SimpleLocalConsumerSettings,
  log: Logger,
): BatchProcessor {
  return new LocalProcessor(settings, log);
}
