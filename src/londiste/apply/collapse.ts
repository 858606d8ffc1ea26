/**
 * A buffer of row changes collapsed per primary key, as the `bulk` handler loads them: the
 * last state of each key wins, and what the key needs on the destination follows from its
 * first and last event (spec §6.5):
 *
 *   first I, last I/U  -> insert the last row       first U/D, last I/U -> update to it
 *   first I, last D    -> nothing                   first U/D, last D   -> delete
 *
 * Event order across keys is not kept (upstream's bulk does not either).
 */
import type { RowShape } from './row-change.js';

export type CollapsedOp = 'I' | 'U' | 'D';

export interface CollapsedRow {
  op: CollapsedOp;
  shape: RowShape;
  values: readonly (string | null)[];
}

interface KeyState {
  /** The row existed before the buffer's first event of the key. */
  existed: boolean;
  deleted: boolean;
  shape: RowShape;
  values: readonly (string | null)[];
}

const separator = '\u0001';

export class CollapsedRows {
  readonly #keys = new Map<string, KeyState>();

  get size(): number {
    return this.#keys.size;
  }

  add(op: 'I' | 'U' | 'D', shape: RowShape, values: readonly (string | null)[]): void {
    const key = shape.keyIndexes.map((i) => values[i] ?? '\u0000').join(separator);
    const known = this.#keys.get(key);
    if (known === undefined) {
      this.#keys.set(key, { existed: op !== 'I', deleted: op === 'D', shape, values });
      return;
    }
    known.deleted = op === 'D';
    known.shape = shape;
    known.values = values;
  }

  /** What each key needs, in the order keys first came. */
  rows(): CollapsedRow[] {
    const out: CollapsedRow[] = [];
    for (const state of this.#keys.values()) {
      if (state.deleted) {
        if (state.existed) out.push({ op: 'D', shape: state.shape, values: state.values });
      } else {
        out.push({ op: state.existed ? 'U' : 'I', shape: state.shape, values: state.values });
      }
    }
    return out;
  }

  clear(): void {
    this.#keys.clear();
  }
}
