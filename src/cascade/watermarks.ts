/**
 * The watermark duties of §2.4: every node below the root tells its provider how far its
 * whole subtree has got (set_subscriber_watermark), and the root turns the lowest of those
 * into the global watermark event that lets every node rotate away what nobody needs.
 */
import type { Queryable } from '../db/queryable.js';
import type { Logger } from '../pgq/logger.js';
import { setGlobalWatermarkSql, setSubscriberWatermarkSql } from './cascade-sql.js';
import { callRet, type RetRow } from './node-calls.js';

/** A duty done at most every `seconds`; the first time at once. */
export class Period {
  #last = Number.NEGATIVE_INFINITY;

  constructor(readonly seconds: number) {}

  due(now = performance.now()): boolean {
    return now - this.#last >= this.seconds * 1000;
  }

  done(now = performance.now()): void {
    this.#last = now;
  }

  /** Do it again at the next chance (after a role change, say). */
  reset(): void {
    this.#last = Number.NEGATIVE_INFINITY;
  }
}

/** Root: publish the local watermark as the global one (pgq.global-watermark event). */
export async function publishGlobalWatermark(
  local: Queryable,
  queue: string,
  node: string,
  log: Logger,
): Promise<void> {
  const row = await callRet(local, setGlobalWatermarkSql, [queue, null], { queue, node });
  log.debug({ note: row.ret_note }, 'global watermark published');
}

/** Branch or leaf: report the subtree's lowest position to the provider. */
export async function reportLocalWatermark(
  provider: Queryable,
  queue: string,
  node: string,
  watermark: string,
  log: Logger,
): Promise<RetRow> {
  const { rows } = await provider.query<RetRow>(setSubscriberWatermarkSql, [
    queue,
    node,
    watermark,
  ]);
  const row = rows[0] as RetRow;
  // 405 (backwards) happens after a provider change to a node that had us further on: the
  // provider's position is the one that counts, and the next report moves it on.
  if (row.ret_code >= 300) {
    log.warn({ code: row.ret_code, note: row.ret_note, watermark }, 'local watermark refused');
  } else {
    log.debug({ watermark, note: row.ret_note }, 'local watermark reported');
  }
  return row;
}
