/**
 * The cascade's own events (type `pgq.*`), which every worker applies to its node in the
 * same transaction as the batch they came in: member locations, the global watermark, and a
 * merge-leaf's partition position. A branch also copies them into its queue, so the nodes
 * below it get them too.
 */
import type { Queryable } from '../db/queryable.js';
import type { EventRow } from '../pgq/event.js';
import type { Logger } from '../pgq/logger.js';
import {
  registerLocationSql,
  setGlobalWatermarkSql,
  setPartitionWatermarkSql,
  unregisterLocationSql,
} from './cascade-sql.js';
import { CascadeError, type NodeType, type RetRow } from './node-calls.js';

// Columns of an EventRow (see src/pgq/event.ts).
const ID = 0;
const TYPE = 4;
const DATA = 5;
const EXTRA1 = 6;
const EXTRA2 = 7;
const EXTRA3 = 8;

export interface CascadeTarget {
  queue: string;
  node: string;
  nodeType: NodeType;
  /** The node reports and computes its own global watermark (node attr sync_watermark). */
  syncWatermark: boolean;
}

export function isCascadeEvent(row: EventRow): boolean {
  return row[TYPE]?.startsWith('pgq.') === true;
}

/** Apply one cascade event; returns the global watermark it carried, if any. */
export async function applyCascadeEvent(
  db: Queryable,
  target: CascadeTarget,
  row: EventRow,
  log: Logger,
): Promise<string | null> {
  const type = row[TYPE] as string;
  const context = { queue: target.queue, node: target.node, event: row[ID], type };
  if (type !== 'pgq.tick-id' && row[EXTRA1] !== target.queue) {
    throw new CascadeError(
      'BAD_EVENT',
      `bad event in queue: event ${row[ID]} of type ${type} carries queue ${JSON.stringify(row[EXTRA1])} in extra1, this is queue ${JSON.stringify(target.queue)}`,
      context,
    );
  }
  let result: RetRow | undefined;
  let watermark: string | null = null;
  switch (type) {
    case 'pgq.location-info':
      result = await one(db, registerLocationSql, [
        target.queue,
        row[DATA],
        row[EXTRA2],
        ['true', 't', '1'].includes(row[EXTRA3] ?? ''),
      ]);
      break;
    case 'pgq.unregister-location':
      result = await one(db, unregisterLocationSql, [target.queue, row[DATA]]);
      break;
    case 'pgq.global-watermark':
      watermark = row[DATA] ?? null;
      // With sync_watermark the node computes its own from its peers (see watermarks.ts);
      // the root's value is only remembered, as the cap.
      if (!target.syncWatermark && target.nodeType === 'branch') {
        result = await one(db, setGlobalWatermarkSql, [target.queue, watermark]);
      }
      break;
    case 'pgq.tick-id':
      // A merge-leaf's progress in a combined queue: only a combined branch keeps it.
      if (target.nodeType === 'branch') {
        result = await one(db, setPartitionWatermarkSql, [target.queue, row[EXTRA1], row[DATA]]);
      }
      break;
    default:
      throw new CascadeError(
        'UNKNOWN_CASCADE_EVENT',
        `unknown cascade event: ${type} (event ${row[ID]} of queue ${target.queue})`,
        context,
      );
  }
  // Refusals here (a location the node itself needs, a watermark it does not know) are the
  // node's answer to news from upstream: noted, not a reason to stop the cascade.
  if (result !== undefined && result.ret_code >= 300) {
    log.warn({ ...context, code: result.ret_code, note: result.ret_note }, 'cascade event refused');
  }
  return watermark;
}

async function one(db: Queryable, sql: string, values: unknown[]): Promise<RetRow | undefined> {
  const { rows } = await db.query<RetRow>(sql, values);
  return rows[0];
}
