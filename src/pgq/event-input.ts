import { SkytoolsError } from '../errors.js';
import type { Event } from './event.js';

/** One event to produce. `data` is sent as JSON unless the call asks for raw text. */
export interface EventInput {
  type: string | null;
  data?: unknown;
  extra1?: string | null;
  extra2?: string | null;
  extra3?: string | null;
  extra4?: string | null;
  /**
   * ev_time, for bulk inserts that copy events from elsewhere and keep their time: a Date or
   * a timestamptz text. The transaction's now() when unset.
   */
  time?: string | Date | null;
}

/**
 * An event as it goes into another queue (queue_mover, qsplitter): type, data, extras and
 * time kept; the id and txid are the target queue's. Its data is raw text (`{ raw: true }`).
 */
export function copyOfEvent(event: Event): EventInput {
  return {
    type: event.type,
    data: event.data,
    extra1: event.extra1,
    extra2: event.extra2,
    extra3: event.extra3,
    extra4: event.extra4,
    time: event.row[1] ?? null,
  };
}

export interface PayloadOptions {
  /** `data` is already the text to store (a string or null), not a value to encode as JSON. */
  raw?: boolean;
}

/** The text stored in ev_data: JSON of `data` by default, the string itself when raw. */
export function encodeData(queue: string, event: EventInput, raw: boolean): string | null {
  const { data } = event;
  if (raw) {
    if (data === undefined || data === null) return null;
    if (typeof data !== 'string') {
      throw new SkytoolsError(
        'BAD_EVENT',
        `raw event data must be a string or null, got ${typeof data}`,
        { queue, type: event.type },
      );
    }
    return data;
  }
  if (data === undefined) return null;
  const text = JSON.stringify(data);
  if (text === undefined) {
    throw new SkytoolsError('BAD_EVENT', `event data of type ${typeof data} has no JSON form`, {
      queue,
      type: event.type,
    });
  }
  return text;
}

/** ev_type and the extras: text or null, checked so a number slipping in is named. */
export function textField(queue: string, name: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    throw new SkytoolsError('BAD_EVENT', `event field ${name} must be a string or null`, {
      queue,
      field: name,
    });
  }
  return value;
}
