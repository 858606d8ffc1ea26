/**
 * A table compared by primary-key ranges, both sides at once. Each range is one aggregate
 * computed by the server in one pass: count and the sum of a 64-bit hash of each row's text
 * (or with `md5` the md5 of the rows' texts in key order), grouped into buckets by a hash
 * of the key (about 100 rows a bucket). Equal ranges cost that one pass. In a range that
 * differs, only the buckets that differ are read again, as (key, row hash) pairs from both
 * sides, which names the rows that differ: two passes, whatever the number of differences
 * and however they are spread. Rows never travel whole: only keys and hashes.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { quoteFqname, splitFqname } from '../table-names.js';
import {
  type KeyValue,
  keyAsText,
  keyColumns,
  keySetCondition,
  rangeCondition,
  type TableKey,
} from './table-key.js';

export type Checksum = 'sum' | 'md5';

/** One side's result over a range: row count and checksum, as the server printed them. */
export interface Totals {
  cnt: string;
  chk: string;
}

export interface RangeResult {
  src: Totals;
  dst: Totals;
}

export type DiffKind = 'missing' | 'extra' | 'changed';

/** A row that differs: missing here, extra here, or changed. */
export interface RowDiff {
  key: KeyValue;
  kind: DiffKind;
}

export interface ScanSide {
  db: pg.ClientBase;
  /** `schema.name` of the table on that side. */
  relation: string;
}

export interface ScanOptions {
  src: ScanSide;
  dst: ScanSide;
  /** The columns both sides have, in one order. */
  columns: readonly string[];
  key: TableKey;
  /** SQL condition both sides' rows must meet (handler's copy condition, --repair-where). */
  filter: string | null;
  /** Keys left out on both sides (rows that moved while the point was taken). */
  exclude: readonly KeyValue[];
  checksum: Checksum;
  /** Rows per top-level range, about. */
  rangeRows: number;
  /** Rows of differing buckets read (as keys and hashes) in one pass, at most about. */
  fetchRows: number;
  /** Pause after each range, ms. */
  throttleMs: number;
  /**
   * Go straight to the bucketed pass (repair, which expects differences): without it a
   * range gets a plain aggregate first and the bucketed pass only when it differs.
   */
  buckets: boolean;
}

/** A top-level range i runs from bounds[i-1] (exclusive) to bounds[i] (inclusive). */
export interface ScanPlan {
  bounds: KeyValue[];
  /** Ranges already known equal (resume), by index. */
  done: ReadonlyMap<number, RangeResult>;
  onRange(index: number, result: RangeResult, diffs: RowDiff[]): Promise<void>;
}

export interface ScanResult {
  src: Totals;
  dst: Totals;
  diffs: RowDiff[];
  ranges: number;
}

export class TableScan {
  readonly #o: ScanOptions;
  readonly #row: string;

  constructor(options: ScanOptions) {
    this.#o = options;
    this.#row = `row(${options.columns.map(quoteIdent).join(', ')})::text`;
  }

  /**
   * Bounds of ranges of about rangeRows rows, from the source: the planner's histogram of the
   * first key column when there is one (no scan), else every n-th key. None for a small table.
   */
  async topBounds(): Promise<KeyValue[]> {
    const { src, key, rangeRows } = this.#o;
    const { rows } = await src.db.query<{ n: number }>(
      'select reltuples::float8 as n from pg_catalog.pg_class where oid = $1::regclass',
      [quoteFqname(src.relation)],
    );
    const estimate = rows[0]?.n ?? -1;
    if (estimate >= 0 && estimate < rangeRows * 1.5) return [];
    const { schema, name } = splitFqname(src.relation);
    const { rows: hist } = await src.db.query<{ b: string[] | null }>(
      `select (histogram_bounds::text)::text[] as b from pg_catalog.pg_stats
        where schemaname = $1 and tablename = $2 and attname = $3`,
      [schema, name, key.columns[0]],
    );
    const b = hist[0]?.b ?? null;
    if (b !== null && b.length >= 3 && estimate > 0) {
      const perBucket = estimate / (b.length - 1);
      const step = Math.max(1, Math.round(rangeRows / perBucket));
      const bounds: KeyValue[] = [];
      for (let i = step; i < b.length - 1; i += step) bounds.push([b[i] as string]);
      return bounds;
    }
    return this.#everyNth(src, null, null, rangeRows);
  }

  async scan(plan: ScanPlan): Promise<ScanResult> {
    const sums = { src: [] as Totals[], dst: [] as Totals[] };
    const diffs: RowDiff[] = [];
    const n = plan.bounds.length + 1;
    for (let i = 0; i < n; i++) {
      const lo = i === 0 ? null : (plan.bounds[i - 1] as KeyValue);
      const hi = i === n - 1 ? null : (plan.bounds[i] as KeyValue);
      let result = plan.done.get(i);
      let found: RowDiff[] = [];
      if (result === undefined && !this.#o.buckets) {
        // One plain aggregate per side (the server may scan in parallel): most ranges are equal.
        const [src, dst] = await this.#both((side) => this.#aggregate(side, lo, hi));
        result = { src, dst };
        await this.#throttle();
      }
      if (result === undefined || !same(result)) {
        const [src, dst] = await this.#both((side) => this.#buckets(side, lo, hi));
        result ??= { src: this.#total(inOrder(src)), dst: this.#total(inOrder(dst)) };
        await this.#throttle();
        found = await this.#bucketDiffs(lo, hi, src, dst);
      }
      sums.src.push(result.src);
      sums.dst.push(result.dst);
      diffs.push(...found);
      await plan.onRange(i, result, found);
    }
    return {
      src: this.#total(sums.src),
      dst: this.#total(sums.dst),
      diffs,
      ranges: n,
    };
  }

  /** The rows of lo < key <= hi in the buckets whose results differ. */
  async #bucketDiffs(
    lo: KeyValue | null,
    hi: KeyValue | null,
    src: Map<number, Totals>,
    dst: Map<number, Totals>,
  ): Promise<RowDiff[]> {
    const differ: { bucket: number; rows: number }[] = [];
    for (const bucket of new Set([...src.keys(), ...dst.keys()])) {
      const a = src.get(bucket);
      const b = dst.get(bucket);
      if (a?.cnt === b?.cnt && a?.chk === b?.chk) continue;
      differ.push({ bucket, rows: Math.max(Number(a?.cnt ?? 0), Number(b?.cnt ?? 0)) });
    }
    const out: RowDiff[] = [];
    // Groups of buckets small enough to hold in memory at once, one pass per group.
    let group: number[] = [];
    let rows = 0;
    for (const [i, d] of differ.entries()) {
      group.push(d.bucket);
      rows += d.rows;
      if (rows >= this.#o.fetchRows || i === differ.length - 1) {
        const only = group;
        out.push(...(await this.#rowDiffs(lo, hi, (values) => this.#inBuckets(only, values))));
        group = [];
        rows = 0;
      }
    }
    return out;
  }

  /** The rows among `keys` that differ (the moving rows of an earlier point, compared again). */
  async keyDiffs(keys: readonly KeyValue[]): Promise<RowDiff[]> {
    const out: RowDiff[] = [];
    for (let at = 0; at < keys.length; at += 5000) {
      const part = keys.slice(at, at + 5000);
      out.push(
        ...(await this.#rowDiffs(null, null, (values) =>
          keySetCondition(this.#o.key, part, values),
        )),
      );
    }
    return out;
  }

  async #rowDiffs(
    lo: KeyValue | null,
    hi: KeyValue | null,
    only: (values: unknown[]) => string,
  ): Promise<RowDiff[]> {
    const [src, dst] = await this.#both((side) => this.#rowHashes(side, lo, hi, only));
    await this.#throttle();
    const out: RowDiff[] = [];
    for (const [id, row] of src) {
      const there = dst.get(id);
      if (there === undefined) out.push({ key: row.k, kind: 'missing' });
      else if (there.h !== row.h) out.push({ key: row.k, kind: 'changed' });
    }
    for (const [id, row] of dst) if (!src.has(id)) out.push({ key: row.k, kind: 'extra' });
    return out;
  }

  #both<T>(run: (side: ScanSide) => Promise<T>): Promise<[T, T]> {
    return Promise.all([run(this.#o.src), run(this.#o.dst)]);
  }

  /** `where` for lo < key <= hi, the filter and the excluded keys. */
  #where(lo: KeyValue | null, hi: KeyValue | null, values: unknown[]): string {
    const parts = [rangeCondition(this.#o.key, lo, hi, values)];
    if (this.#o.filter !== null) parts.push(`(${this.#o.filter})`);
    if (this.#o.exclude.length > 0) {
      parts.push(keySetCondition(this.#o.key, this.#o.exclude, values, true));
    }
    return parts.join(' and ');
  }

  async #aggregate(side: ScanSide, lo: KeyValue | null, hi: KeyValue | null): Promise<Totals> {
    const values: unknown[] = [];
    const where = this.#where(lo, hi, values);
    const chk =
      this.#o.checksum === 'md5'
        ? `coalesce(md5(string_agg(${this.#row}, E'\\n' order by ${keyColumns(this.#o.key)})), '')`
        : `coalesce(sum(hashtextextended(${this.#row}, 0)), 0)::text`;
    const { rows } = await side.db.query<Totals>(
      `select count(*)::text as cnt, ${chk} as chk from only ${quoteFqname(side.relation)} where ${where}`,
      values,
    );
    return rows[0] as Totals;
  }

  /** The bucket of a row: a hash of its key, so both sides put a row in the same one. */
  get #bucket(): string {
    const buckets = Math.max(1, Math.min(65536, Math.ceil(this.#o.rangeRows / 100)));
    return `abs(hashtextextended(row(${keyColumns(this.#o.key)})::text, 1) % ${buckets})::int`;
  }

  #inBuckets(buckets: readonly number[], values: unknown[]): string {
    values.push(buckets);
    return `${this.#bucket} = any($${values.length}::int[])`;
  }

  /** Count and checksum per bucket of lo < key <= hi on one side. */
  async #buckets(
    side: ScanSide,
    lo: KeyValue | null,
    hi: KeyValue | null,
  ): Promise<Map<number, Totals>> {
    const values: unknown[] = [];
    const where = this.#where(lo, hi, values);
    const chk =
      this.#o.checksum === 'md5'
        ? `md5(string_agg(${this.#row}, E'\\n' order by ${keyColumns(this.#o.key)}))`
        : `sum(hashtextextended(${this.#row}, 0))::text`;
    const { rows } = await side.db.query<Totals & { b: number }>(
      `select ${this.#bucket} as b, count(*)::text as cnt, ${chk} as chk
         from only ${quoteFqname(side.relation)} where ${where} group by 1`,
      values,
    );
    return new Map(rows.map((r) => [r.b, { cnt: r.cnt, chk: r.chk }]));
  }

  async #rowHashes(
    side: ScanSide,
    lo: KeyValue | null,
    hi: KeyValue | null,
    only: (values: unknown[]) => string,
  ): Promise<Map<string, { k: KeyValue; h: string }>> {
    const values: unknown[] = [];
    const where = `${this.#where(lo, hi, values)} and ${only(values)}`;
    const hash =
      this.#o.checksum === 'md5' ? `md5(${this.#row})` : `hashtextextended(${this.#row}, 0)::text`;
    const { rows } = await side.db.query<{ k: KeyValue; h: string }>(
      `select ${keyAsText(this.#o.key)} as k, ${hash} as h from only ${quoteFqname(side.relation)} where ${where}`,
      values,
    );
    return new Map(rows.map((r) => [JSON.stringify(r.k), r]));
  }

  /** Every step-th key (in key order) of lo < key <= hi on one side. */
  async #everyNth(
    side: ScanSide,
    lo: KeyValue | null,
    hi: KeyValue | null,
    step: number,
  ): Promise<KeyValue[]> {
    const values: unknown[] = [];
    const where = this.#where(lo, hi, values);
    values.push(step);
    const cols = keyColumns(this.#o.key);
    const { rows } = await side.db.query<{ k: KeyValue }>(
      `select ${keyAsText(this.#o.key)} as k
         from (select ${cols}, row_number() over (order by ${cols}) as rn
                 from only ${quoteFqname(side.relation)} where ${where}) s
        where rn % $${values.length} = 0 order by rn`,
      values,
    );
    return rows.map((r) => r.k);
  }

  /** Totals of buckets (in any order) or of ranges (in key order). */
  #total(parts: Totals[]): Totals {
    let cnt = 0n;
    for (const p of parts) cnt += BigInt(p.cnt);
    if (this.#o.checksum === 'md5') {
      if (parts.length === 1) return { cnt: String(cnt), chk: (parts[0] as Totals).chk };
      const md5 = createHash('md5');
      for (const p of parts) md5.update(`${p.chk}\n`);
      return { cnt: String(cnt), chk: md5.digest('hex') };
    }
    let chk = 0n;
    for (const p of parts) chk += BigInt(p.chk);
    return { cnt: String(cnt), chk: String(chk) };
  }

  async #throttle(): Promise<void> {
    if (this.#o.throttleMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.#o.throttleMs));
    }
  }
}

/** Bucket results in bucket order (the server groups them in any order). */
function inOrder(buckets: Map<number, Totals>): Totals[] {
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t);
}

function same(r: RangeResult): boolean {
  return r.src.cnt === r.dst.cnt && r.src.chk === r.dst.chk;
}
