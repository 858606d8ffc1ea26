/**
 * A txid snapshot as `txid_current_snapshot()` prints it (`xmin:xmax:xip,...`), and whether a
 * transaction id is visible in it: the copy's snapshot decides which events a copied table
 * already holds (spec §6.4), so replay skips them.
 */
import { SkytoolsError } from '../../errors.js';

export class TxidSnapshot {
  readonly xmin: bigint;
  readonly xmax: bigint;
  readonly #inProgress: Set<bigint>;

  constructor(readonly text: string) {
    const m = /^(\d+):(\d+):([\d,]*)$/.exec(text.trim());
    if (m === null) {
      throw new SkytoolsError('BAD_EVENT', `not a txid snapshot: ${JSON.stringify(text)}`, {
        snapshot: text,
      });
    }
    this.xmin = BigInt(m[1] as string);
    this.xmax = BigInt(m[2] as string);
    const xip = m[3] as string;
    this.#inProgress = new Set(xip === '' ? [] : xip.split(',').map((x) => BigInt(x)));
  }

  /** Committed (or ended) before the snapshot was taken. */
  visible(txid: string | bigint): boolean {
    const id = typeof txid === 'bigint' ? txid : BigInt(txid);
    if (id < this.xmin) return true;
    if (id >= this.xmax) return false;
    return !this.#inProgress.has(id);
  }
}
