import type { EventRow } from './event.js';

// Rows cost more than their text: ids, txid, time and the driver's bookkeeping.
const rowOverhead = 64;
// Before any event has been seen its size is unknown: read one first, so that even events of
// many megabytes never arrive a hundred at a time.
const probeRows = 1;

/**
 * How many events to read per round trip so that a block stays within `maxEvents` and, by the
 * average size of the events seen last, within `maxBytes`. The byte bound is an estimate: one
 * very large event among small ones can exceed it by that event's size.
 */
export class BlockSize {
  #avgBytes = 0;

  constructor(
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  next(): number {
    if (this.#avgBytes === 0) return Math.min(this.maxEvents, probeRows);
    const byBytes = Math.floor(this.maxBytes / this.#avgBytes);
    return Math.max(1, Math.min(this.maxEvents, byBytes));
  }

  observe(rows: EventRow[]): void {
    if (rows.length === 0) return;
    let chars = 0;
    for (const row of rows) {
      // type, data and the four extras; UTF-16 length stands in for bytes.
      for (let i = 4; i < 10; i++) chars += row[i]?.length ?? 0;
    }
    this.#avgBytes = Math.ceil(chars / rows.length) + rowOverhead;
  }
}
