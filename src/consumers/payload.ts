/**
 * The parameters a `dst_query` sees for one event, as upstream's simple_consumer builds them:
 * the row columns of the event's payload plus `pgq.*` fields of the event and its batch.
 */
import type { Batch, Event } from '../pgq/index.js';
import { urldecode } from '../pgq/urlencode.js';

/** Field name → text value; a key without `=` in a urlencoded payload is NULL. */
export type EventParams = Map<string, string | null>;

/** Row events of PgQ's triggers: `I:`, `U:`, `D:` (optionally followed by the key columns). */
export function isRowEvent(type: string | null): boolean {
  return type !== null && /^[IUD]:/.test(type);
}

/**
 * The row columns of a payload. pgq.logutriga writes urlencoded rows; pgq.jsontriga (and
 * this library's producer) write a JSON object, which urlencoding never starts with (`{` is
 * encoded as %7B): its values become text, nested values their JSON text.
 */
export function payloadColumns(data: string | null): EventParams {
  if (data === null) return new Map();
  if (data.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const out: EventParams = new Map();
      for (const [key, value] of Object.entries(parsed)) {
        out.set(key, columnText(value));
      }
      return out;
    }
  }
  return urldecode(data);
}

function columnText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Payload columns plus the `pgq.*` fields; the `pgq.*` names win over columns of that name. */
export function eventParams(event: Event, batch: Batch): EventParams {
  const params = payloadColumns(event.data);
  params.set('pgq.tick_id', String(batch.info.tickId));
  params.set('pgq.ev_id', event.id);
  params.set('pgq.ev_time', event.row[1] ?? null);
  params.set('pgq.ev_type', event.type);
  params.set('pgq.ev_data', event.data);
  params.set('pgq.ev_extra1', event.extra1);
  params.set('pgq.ev_extra2', event.extra2);
  params.set('pgq.ev_extra3', event.extra3);
  params.set('pgq.ev_extra4', event.extra4);
  return params;
}
