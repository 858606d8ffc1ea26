import type pg from 'pg';
import { bulkInsertEvents } from '../pgq/bulk-insert.js';
import type { EventInput } from '../pgq/event-input.js';
import { Producer } from '../pgq/producer.js';
import { abortableSleep } from '../script/sleep.js';
import { type DemoPayload, FlowTracker } from './tracker.js';

/** How often the producer wakes up to send what is due. */
const stepMs = 10;
/** Up to this many events due at once go as single inserts (one transaction each), more as one COPY. */
const singleInsertLimit = 16;
export const demoEventType = 'demo.tick';

/**
 * Produce `rate` events per second until `signal` aborts, spread evenly: every few ms the events
 * that are due go out, each in its own transaction through Producer.insert, or, when many are due
 * at once (a high rate), in one bulk COPY. A producer that falls more than a second behind
 * (the server cannot keep up) does not try to make the backlog up: the shown rate is the real one.
 * Rejects on the first failed insert.
 */
export async function produceSteadily(
  pool: pg.Pool,
  queue: string,
  rate: number,
  tracker: FlowTracker,
  signal: AbortSignal,
): Promise<void> {
  const producer = new Producer(pool, queue);
  let origin = FlowTracker.now();
  let sent = 0;
  while (!signal.aborted) {
    let due = Math.floor((rate * (FlowTracker.now() - origin)) / 1000) - sent;
    if (due > rate) {
      origin += ((due - 1) * 1000) / rate;
      due = 1;
    }
    if (due > 0) {
      const events = nextEvents(sent, due);
      sent += due;
      if (due <= singleInsertLimit) {
        await Promise.all(
          events.map(async ({ event, seq }) => {
            await producer.insert(event);
            tracker.committed(seq);
          }),
        );
      } else {
        const client = await pool.connect();
        try {
          await bulkInsertEvents(
            client,
            queue,
            events.map((e) => e.event),
          );
        } finally {
          client.release();
        }
        const at = FlowTracker.now();
        for (const { seq } of events) tracker.committed(seq, at);
      }
    }
    await abortableSleep(stepMs, signal);
  }
}

function nextEvents(sent: number, count: number): { seq: number; event: EventInput }[] {
  const t = FlowTracker.now();
  return Array.from({ length: count }, (_, i) => {
    const payload: DemoPayload = { seq: sent + i + 1, t };
    return { seq: payload.seq, event: { type: demoEventType, data: payload } };
  });
}
