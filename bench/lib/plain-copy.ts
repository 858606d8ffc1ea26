import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventInput } from '../../src/pgq/event-input.js';
import { payload } from './fixtures.js';

// The bulk workloads' shared rows: `count` events of one type with the bench payloads, as the
// library takes them and as COPY text for the plain-table baseline.

export const bulkEventType = 'order.created';

export function* bulkEvents(count: number): Generator<EventInput> {
  for (let i = 0; i < count; i++) yield { type: bulkEventType, data: payload(i) };
}

/** The same rows as COPY text, every column the library writes (the extras null). */
function* copyRows(count: number, time: string): Generator<string> {
  let chunk = '';
  for (let i = 0; i < count; i++) {
    chunk += `${time}\t${bulkEventType}\t${payload(i)}\t\\N\t\\N\t\\N\t\\N\n`;
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** The baseline of the bulk workloads: one COPY of the rows into the plain table. */
export async function plainCopy(client: pg.Client, count: number): Promise<void> {
  await client.query('begin');
  const { rows } = await client.query<{ now: string }>('select now()::text as now');
  const stream = client.query(
    copyFrom(
      'copy bench.plain_event (ev_time, ev_type, ev_data, ev_extra1, ev_extra2, ev_extra3, ev_extra4) from stdin',
    ),
  );
  await pipeline(copyRows(count, rows[0]?.now ?? ''), stream);
  await client.query('commit');
}
