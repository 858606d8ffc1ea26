/**
 * simple_consumer (upstream simple_consumer3): for each row event (`I:`, `U:`, `D:` types, as
 * PgQ's triggers write them) run `dst_query` on `dst_db` in autocommit, its `%(name)s`
 * placeholders bound to the event's row columns and `pgq.*` fields. Other event types are
 * skipped (counted as `ignored`). At-least-once: a batch that fails part-way is run again
 * whole after `exception_sleep`.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { parseConnString } from '../db/connstring.js';
import { isSessionLost } from '../pgq/consumer-connection.js';
import { type Batch, eventFailed } from '../pgq/index.js';
import type { BatchContext, BatchProcessor } from './consumer-job.js';
import { DstDatabase } from './dst-database.js';
import { bindDstQuery, compileDstQuery, type DstQuery } from './dst-query.js';
import { type JobSettings, jobKeys, loadJobSettings } from './job-settings.js';
import { eventParams, isRowEvent } from './payload.js';

export interface SimpleConsumerSettings extends JobSettings {
  /** Where dst_query runs; the queue's database when the file gives none. */
  readonly dstDb: string;
  readonly dstQuery: DstQuery;
}

export const simpleConsumerKeys = [...jobKeys, 'dst_db', 'dst_query', 'consumer_filter'];

export function loadSimpleConsumerSettings(cf: Config): SimpleConsumerSettings {
  const job = loadJobSettings(cf);
  if (cf.get('consumer_filter', '').trim() !== '') {
    throw cf.error(
      'consumer_filter',
      'consumer_filter (a raw SQL condition, deprecated upstream) is not supported: use table_filter',
    );
  }
  const dstDb = cf.has('dst_db') ? cf.get('dst_db') : job.srcDb;
  for (const [key, value] of [
    ['src_db', job.srcDb],
    ['dst_db', dstDb],
  ] as const) {
    try {
      parseConnString(value);
    } catch (error) {
      throw cf.error(cf.has(key) ? key : 'db', (error as Error).message);
    }
  }
  let dstQuery: DstQuery;
  try {
    dstQuery = compileDstQuery(cf.get('dst_query'));
  } catch (error) {
    throw cf.error('dst_query', (error as Error).message);
  }
  return { ...job, dstDb, dstQuery };
}

/** Runs dst_query for every row event of a batch, one autocommit statement per event. */
export class DstQueryProcessor implements BatchProcessor {
  readonly #db: DstDatabase;

  constructor(
    private readonly settings: SimpleConsumerSettings,
    applicationName: string,
  ) {
    this.#db = new DstDatabase(settings.dstDb, applicationName, settings.connectionLifetime);
  }

  async process(batch: Batch, context: BatchContext): Promise<boolean> {
    for await (const event of batch) {
      if (context.stopNow.aborted) return false;
      if (!isRowEvent(event.type)) {
        context.stats.increase('ignored');
        continue;
      }
      const values = bindDstQuery(this.settings.dstQuery, eventParams(event, batch), event.id);
      try {
        await this.#db.execute(this.settings.dstQuery, values, event.id);
      } catch (error) {
        const retry = this.settings.retry;
        // Without per-event retry, or when dst_db itself is gone (every event would fail
        // alike), the batch crashes and is tried again whole.
        if (retry === null || lostDst(error)) throw error;
        const outcome = eventFailed(batch, event, error, retry, context.log);
        context.stats.increase(outcome === 'retry' ? 'retry-events' : 'dead-letters');
      }
    }
    return true;
  }

  afterBatch(): Promise<void> {
    return this.#db.expire();
  }

  close(): Promise<void> {
    return this.#db.close();
  }
}

export function simpleConsumerProcessor(
  settings: SimpleConsumerSettings,
  _log: Logger,
): BatchProcessor {
  return new DstQueryProcessor(settings, `simple_consumer ${settings.jobName}`);
}

function lostDst(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: unknown };
  return e.code === 'CONNECT_FAILED' || isSessionLost(e.cause);
}
