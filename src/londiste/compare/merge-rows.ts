/**
 * One key range compared row by row in one pass: each side streams `key..., row hash` lines
 * in its key order (copy-lines.ts), both at once, and the two streams are merged here.
 * Where the sides agree the lines are equal and cost one string compare. Where they do not,
 * the line waits in a map by key until the other side's line of that key comes (or never
 * does: missing or extra); a key seen on the other side's map resolves at once, which also
 * puts the streams back in step after a row only one side has. The order is the servers'
 * own, never compared here, so no key type needs to be understood in JavaScript: with the
 * same order on both sides the maps hold only the differing rows; with another order they
 * grow, and the result is the same.
 */
import { createHash, type Hash } from 'node:crypto';
import { parseCopyField } from '../../pgq/copy-text.js';
import type { CopyLines } from './copy-lines.js';
import type { Checksum, RowDiff, Totals } from './ranges.js';

export interface Merged {
  src: Totals;
  dst: Totals;
  diffs: RowDiff[];
}

/**
 * Count and checksum of one side, as the plain aggregate gives them. With `sum` the rows
 * both sides have alike are added once, to a total they share (one BigInt per row pair).
 */
class SideTotal {
  #count = 0;
  #sum = 0n;
  readonly #md5: Hash | null;
  readonly #shared: { count: number; sum: bigint };

  constructor(checksum: Checksum, shared: { count: number; sum: bigint }) {
    this.#md5 = checksum === 'md5' ? createHash('md5') : null;
    this.#shared = shared;
  }

  add(hash: string): void {
    this.#count++;
    if (this.#md5 === null) this.#sum += BigInt(hash);
    else this.#md5.update(`${hash}\n`);
  }

  /** A row both sides have alike: `other` is the other side's total. */
  addBoth(hash: string, other: SideTotal): void {
    if (this.#md5 === null) {
      this.#shared.count++;
      this.#shared.sum += BigInt(hash);
    } else {
      this.add(hash);
      other.add(hash);
    }
  }

  totals(): Totals {
    const count = this.#count + this.#shared.count;
    if (this.#md5 === null)
      return { cnt: String(count), chk: String(this.#sum + this.#shared.sum) };
    return { cnt: String(count), chk: count === 0 ? '' : this.#md5.digest('hex') };
  }
}

class Side {
  lines: string[] = [];
  at = 0;
  done = false;
  readonly total: SideTotal;

  constructor(
    readonly copy: CopyLines,
    checksum: Checksum,
    shared: { count: number; sum: bigint },
  ) {
    this.total = new SideTotal(checksum, shared);
  }

  /** Whether the buffered lines are used up while the stream has more. */
  get empty(): boolean {
    return this.at >= this.lines.length && !this.done;
  }

  async fill(): Promise<void> {
    const next = await this.copy.next();
    if (next === null) this.done = true;
    else {
      this.lines = next;
      this.at = 0;
    }
  }
}

/** `key, hash` of a line: the hash is the last field and has no tab in it. */
function split(line: string): [string, string] {
  const tab = line.lastIndexOf('\t');
  return [line.slice(0, tab), line.slice(tab + 1)];
}

/** A key's fields: primary-key columns, so never NULL (`\N`). */
function keyOf(raw: string): string[] {
  return raw.split('\t').map((field) => parseCopyField(field) ?? '');
}

/**
 * The rows of `src` (the source) and `dst` (here) that differ, with each side's totals.
 * On any failure both COPYs are stopped, so both sessions take statements again.
 */
export async function mergeRows(
  src: CopyLines,
  dst: CopyLines,
  checksum: Checksum,
): Promise<Merged> {
  const shared = { count: 0, sum: 0n };
  const a = new Side(src, checksum, shared);
  const b = new Side(dst, checksum, shared);
  try {
    return await merge(a, b);
  } catch (error) {
    await Promise.all([a.copy.stop(), b.copy.stop()]);
    throw error;
  }
}

async function merge(a: Side, b: Side): Promise<Merged> {
  const onlyA = new Map<string, string>();
  const onlyB = new Map<string, string>();
  const diffs: RowDiff[] = [];
  const changed = (key: string) => diffs.push({ key: keyOf(key), kind: 'changed' });
  for (;;) {
    if (a.empty) await a.fill();
    if (b.empty) await b.fill();
    if (a.empty || b.empty) continue;
    const la = a.lines[a.at];
    const lb = b.lines[b.at];
    if (la === undefined && lb === undefined) break;
    if (la !== undefined && la === lb) {
      a.total.addBoth(la.slice(la.lastIndexOf('\t') + 1), b.total);
      a.at++;
      b.at++;
      continue;
    }
    const [ka, ha] = la === undefined ? ['', ''] : split(la);
    const [kb, hb] = lb === undefined ? ['', ''] : split(lb);
    if (la !== undefined) {
      const there = onlyB.get(ka);
      if (there !== undefined) {
        if (there !== ha) changed(ka);
        onlyB.delete(ka);
        a.total.add(ha);
        a.at++;
        continue;
      }
    }
    if (lb !== undefined) {
      const there = onlyA.get(kb);
      if (there !== undefined) {
        if (there !== hb) changed(kb);
        onlyA.delete(kb);
        b.total.add(hb);
        b.at++;
        continue;
      }
    }
    if (la !== undefined && lb !== undefined && ka === kb) {
      changed(ka);
    } else {
      if (la !== undefined) onlyA.set(ka, ha);
      if (lb !== undefined) onlyB.set(kb, hb);
    }
    if (la !== undefined) {
      a.total.add(ha);
      a.at++;
    }
    if (lb !== undefined) {
      b.total.add(hb);
      b.at++;
    }
  }
  for (const key of onlyA.keys()) diffs.push({ key: keyOf(key), kind: 'missing' });
  for (const key of onlyB.keys()) diffs.push({ key: keyOf(key), kind: 'extra' });
  return { src: a.total.totals(), dst: b.total.totals(), diffs };
}
