/**
 * queue_mover and queue_splitter (upstream queue_mover3 / queue_splitter3, SerialConsumers):
 * every event of a queue copied into queues of `dst_db`, with its type, data, extras and time.
 * The mover writes everything into `dst_queue_name`; the splitter into the queue named by one
 * field of each event (`queue_field`, default extra1). Exactly once: a batch goes into dst_db
 * in one transaction with its tick recorded there (pgq_ext), see SerialTarget.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { parseConnString } from '../db/connstring.js';
import { fromDatabaseError } from '../db/database-error.js';
import { SkytoolsError } from '../errors.js';
import {
  type Batch,
  bulkInsertEvents,
  copyOfEvent,
  type Event,
  SerialConsumer,
} from '../pgq/index.js';
import type { BatchContext, BatchProcessor } from './consumer-job.js';
import { type JobSettings, jobKeys, loadJobSettings } from './job-settings.js';
import { SerialTarget } from './serial-target.js';

/** The event fields a splitter may route by (upstream's names, with or without `ev_`). */
const routeFields = ['type', 'data', 'extra1', 'extra2', 'extra3', 'extra4'] as const;
export type RouteField = (typeof routeFields)[number];

export interface QueueMoverSettings extends JobSettings {
  readonly dstDb: string;
  /** queue_mover: the one queue everything goes to; queue_splitter: null. */
  readonly dstQueue: string | null;
  /** queue_splitter: the event field naming each event's queue. */
  readonly queueField: RouteField;
}

export const queueMoverKeys = [...jobKeys, 'dst_db', 'dst_queue_name'];
export const queueSplitterKeys = [...jobKeys, 'dst_db', 'queue_field'];

// The batch is applied whole or not at all in dst_db: a single event cannot be retried.
const perEventRetryKeys = ['max_retries', 'dead_letter_queue', 'retry_delay'];

function loadCommon(cf: Config, tool: string): JobSettings & { dstDb: string } {
  for (const key of perEventRetryKeys) {
    if (cf.has(key)) {
      throw cf.error(
        key,
        `${key} is not supported by ${tool}: each batch is copied whole or not at all (a failing batch is tried again after exception_sleep)`,
      );
    }
  }
  const job = loadJobSettings(cf);
  const dstDb = cf.get('dst_db');
  for (const [key, value] of [
    [cf.has('src_db') ? 'src_db' : 'db', job.srcDb],
    ['dst_db', dstDb],
  ] as const) {
    try {
      parseConnString(value);
    } catch (error) {
      throw cf.error(key, (error as Error).message);
    }
  }
  return { ...job, dstDb };
}

export function loadQueueMoverSettings(cf: Config): QueueMoverSettings {
  const common = loadCommon(cf, 'queue_mover');
  const dstQueue = cf.get('dst_queue_name').trim();
  if (dstQueue === '') throw cf.error('dst_queue_name', 'dst_queue_name is empty');
  return { ...common, dstQueue, queueField: 'extra1' };
}

export function loadQueueSplitterSettings(cf: Config): QueueMoverSettings {
  const common = loadCommon(cf, 'queue_splitter');
  const given = cf.get('queue_field', 'extra1').trim();
  const field = given.replace(/^ev_/, '') as RouteField;
  if (!routeFields.includes(field)) {
    throw cf.error(
      'queue_field',
      `queue_field must be one of ${routeFields.join(', ')} (with or without ev_), not "${given}"`,
    );
  }
  return { ...common, dstQueue: null, queueField: field };
}

/** Copies each batch into dst_db's queues in one transaction with its tick. */
export class QueueMoveProcessor implements BatchProcessor {
  readonly #target: SerialTarget;

  constructor(
    private readonly settings: QueueMoverSettings,
    private readonly log: Logger,
    tool: string,
  ) {
    this.#target = new SerialTarget(
      settings.dstDb,
      `${tool} ${settings.jobName}`,
      settings.connectionLifetime,
      settings.queue,
      settings.consumer,
    );
  }

  async process(batch: Batch, context: BatchContext): Promise<boolean> {
    const { dstQueue } = this.settings;
    const action = dstQueue === null ? 'routing events' : 'copying events';
    let outcome: 'applied' | 'skipped';
    try {
      outcome = await this.#target.apply(batch, action, async (target) => {
        for await (const block of batch.blocks()) {
          if (context.stopNow.aborted) throw new Error('stopped at once');
          for (const [queue, events] of this.#route(block)) {
            try {
              await bulkInsertEvents(target, queue, events.map(copyOfEvent), { raw: true });
            } catch (error) {
              throw fromDatabaseError(error, {
                action: `${action} to queue ${JSON.stringify(queue)} in dst_db (batch ${batch.id})`,
              });
            }
          }
        }
      });
    } catch (error) {
      // An immediate stop rolled dst_db back; the batch is left for the next run.
      if (context.stopNow.aborted) return false;
      throw error;
    }
    if (outcome === 'skipped') {
      this.log.info(
        `batch ${batch.id} is in dst_db already (tick ${batch.info.tickId}): finished only`,
      );
      context.stats.increase('skipped_batches');
    }
    return true;
  }

  /** Events per destination queue, each list in batch order. */
  #route(block: Event[]): Map<string, Event[]> {
    const { dstQueue, queueField } = this.settings;
    if (dstQueue !== null) return new Map([[dstQueue, block]]);
    const routes = new Map<string, Event[]>();
    for (const event of block) {
      const queue = event[queueField];
      if (queue === null || queue === '') {
        throw new SkytoolsError(
          'MISSING_PARAMETER',
          `event ${event.id} has no queue name in ${queueField} (queue_field): it cannot be routed`,
          { event: event.id, field: queueField },
        );
      }
      const list = routes.get(queue);
      if (list === undefined) routes.set(queue, [event]);
      else list.push(event);
    }
    return routes;
  }

  afterBatch(): Promise<void> {
    return this.#target.expire();
  }

  close(): Promise<void> {
    return this.#target.close();
  }
}

export function queueMoverProcessor(settings: QueueMoverSettings, log: Logger): BatchProcessor {
  return new QueueMoveProcessor(settings, log, 'queue_mover');
}

export function queueSplitterProcessor(settings: QueueMoverSettings, log: Logger): BatchProcessor {
  return new QueueMoveProcessor(settings, log, 'queue_splitter');
}

/** The library SerialConsumer of the job's subscription: --register, --rewind, --reset. */
export function serialConsumerOf(
  settings: JobSettings & { readonly dstDb: string },
  tool: string,
): SerialConsumer {
  return new SerialConsumer({
    connection: settings.srcDb,
    queue: settings.queue,
    consumer: settings.consumer,
    target: settings.dstDb,
    applicationName: `${tool} ${settings.jobName}`,
  });
}
