import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency.js';

/** What the demo's producer puts in every event: a sequence number and the send time. */
export interface DemoPayload {
  seq: number;
  /** performance.now() when the insert was sent: the fallback start of the latency clock. */
  t: number;
}

export interface ConsumerCounts {
  readonly name: string;
  readonly kind: string;
  consumed: number;
  batches: number;
  lastBatch: number | null;
  /** Latency since the last progress report, and over the whole run. */
  readonly recent: LatencyHistogram;
  readonly total: LatencyHistogram;
}

interface Flight {
  /** When the producer saw the commit acknowledged; NaN while it has not yet. */
  committedAt: number;
  seen: number;
}

/**
 * Counts events from the producer's commit to each consumer's handler. Latency runs from the
 * moment the producer's commit was acknowledged; an event handled before that acknowledgement
 * arrived (it can: the ticker and consumer may be faster than the reply) is timed from the
 * moment it was sent instead.
 */
export class FlowTracker {
  produced = 0;
  ticks = 0;
  readonly consumers: ConsumerCounts[];
  readonly #inFlight = new Map<number, Flight>();

  constructor(consumers: readonly { name: string; kind: string }[]) {
    this.consumers = consumers.map(({ name, kind }) => ({
      name,
      kind,
      consumed: 0,
      batches: 0,
      lastBatch: null,
      recent: new LatencyHistogram(),
      total: new LatencyHistogram(),
    }));
  }

  static now(): number {
    return performance.now();
  }

  committed(seq: number, at = FlowTracker.now()): void {
    this.produced++;
    const flight = this.#inFlight.get(seq);
    if (flight === undefined) this.#inFlight.set(seq, { committedAt: at, seen: 0 });
    else if (flight.seen >= this.consumers.length) this.#inFlight.delete(seq);
    else flight.committedAt = at;
  }

  consumed(index: number, payload: DemoPayload, batchId: number): void {
    const counts = this.consumers[index];
    if (counts === undefined) return;
    const now = FlowTracker.now();
    const flight = this.#inFlight.get(payload.seq);
    const start =
      flight !== undefined && !Number.isNaN(flight.committedAt) ? flight.committedAt : payload.t;
    const latency = Math.max(0, now - start);
    counts.recent.record(latency);
    counts.total.record(latency);
    counts.consumed++;
    if (counts.lastBatch !== batchId) {
      counts.batches++;
      counts.lastBatch = batchId;
    }
    if (flight === undefined) {
      this.#inFlight.set(payload.seq, { committedAt: Number.NaN, seen: 1 });
    } else if (++flight.seen >= this.consumers.length && !Number.isNaN(flight.committedAt)) {
      this.#inFlight.delete(payload.seq);
    }
  }

  /** Every consumer has handled every event produced so far. */
  caughtUp(): boolean {
    return this.consumers.every((c) => c.consumed >= this.produced);
  }
}

/** The demo's event data, or null for an event some other producer put into the queue. */
export function parsePayload(data: unknown): DemoPayload | null {
  if (typeof data !== 'object' || data === null) return null;
  const { seq, t } = data as Record<string, unknown>;
  return typeof seq === 'number' && typeof t === 'number' ? { seq, t } : null;
}
