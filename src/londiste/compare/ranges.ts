/**
 * A table compared by primary-key ranges, both sides at once. Each range is first one
 * aggregate computed by the server: count and the sum of a 64-bit hash of each row's text
 * (or with `md5` the md5 of the rows' texts in key order); equal ranges cost that one pass,
 * which the server may run in parallel. A range that differs (and with repair, which
 * expects differences, every range straight away) is read once more: with an integer first
 * key column by blocks of its values, then the differing blocks through the key's index
 * (#byBlocks); otherwise as (key, row hash) lines from both sides at the same time, in key
 * order, merged as they come (merge-rows.ts). Either way one more pass names the rows that
 * differ, however many and however spread. Rows never travel whole: only keys and hashes.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { quoteFqname, splitFqname } from '../table-names.js';
import { copyLines } from './copy-lines.js';
import { type Merged, mergeRows } from './merge-rows.js';
import {
  type KeyValue,
  keyAsText,
  keyColumns,
  keySetCondition,
  rangeCondition,
  type TableKey,
  type Values,
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
  db: pg.Client;
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
  /** Pause after each range, ms. */
  throttleMs: number;
  /**
   * Go straight to the row-by-row pass (repair, which expects differences): without it a
   * range gets a plain aggregate first and the row-by-row pass only when it differs.
   */
  rowByRow: boolean;
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
  /** Ranges read again to name their rows: by blocks of key values, or row by row. */
  narrowed: { blocks: number; rows: number };
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
    const narrowed = { blocks: 0, rows: 0 };
    const n = plan.bounds.length + 1;
    for (let i = 0; i < n; i++) {
      const lo = i === 0 ? null : (plan.bounds[i - 1] as KeyValue);
      const hi = i === n - 1 ? null : (plan.bounds[i] as KeyValue);
      let result = plan.done.get(i);
      let found: RowDiff[] = [];
      if (result === undefined && !this.#o.rowByRow) {
        // One plain aggregate per side (the server may scan in parallel): most ranges are equal.
        const [src, dst] = await this.#both((side) => this.#aggregate(side, lo, hi));
        result = { src, dst };
        await this.#throttle();
      }
      if (result === undefined || !same(result)) {
        let rows = await this.#byBlocks(lo, hi, n, result);
        if (rows === null) {
          narrowed.rows++;
          rows = await this.#rowByRow(lo, hi);
        } else narrowed.blocks++;
        result ??= { src: rows.src, dst: rows.dst };
        found = rows.diffs;
        await this.#throttle();
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
      narrowed,
    };
  }

  /**
   * Both sides' (key, row hash) lines of lo < key <= hi in key order, merged as they come.
   * COPY takes no parameters: the range's values are literals here.
   */
  #rowByRow(lo: KeyValue | null, hi: KeyValue | null): Promise<Merged> {
    const keys = this.#o.key.columns.map((c) => `t.${quoteIdent(c)}::text`).join(', ');
    const hash =
      this.#o.checksum === 'md5' ? `md5(${this.#row})` : `hashtextextended(${this.#row}, 0)`;
    const sql = (side: ScanSide) =>
      `copy (select ${keys}, ${hash} from only ${quoteFqname(side.relation)} t
              where ${this.#where(lo, hi, 'inline')} order by ${keyColumns(this.#o.key, 't')}) to stdout`;
    return mergeRows(
      copyLines(this.#o.src.db, sql(this.#o.src)),
      copyLines(this.#o.dst.db, sql(this.#o.dst)),
      this.#o.checksum,
    );
  }

  /**
   * With an integer first key column: count and checksum per block of values of it
   * (`k >> shift`, about 32 rows a block, the same blocks on both sides), then the rows of
   * the blocks that differ, read by the key's index: a little more than the plain aggregate
   * and no second pass over the range. Null (read the range row by row instead) for other
   * keys, an empty range, or when the blocks that differ hold a third of the range or more.
   */
  async #byBlocks(
    lo: KeyValue | null,
    hi: KeyValue | null,
    ranges: number,
    known: RangeResult | undefined,
  ): Promise<Merged | null> {
    const shift = await this.#blockShift(lo, hi, ranges, known);
    if (shift === null) return null;
    const [src, dst] = await this.#both((side) => this.#blockTotals(side, lo, hi, shift));
    await this.#throttle();
    const differ: { block: bigint; rows: number }[] = [];
    let rows = 0;
    for (const block of new Set([...src.keys(), ...dst.keys()])) {
      const a = src.get(block);
      const b = dst.get(block);
      rows += Math.max(Number(a?.cnt ?? 0), Number(b?.cnt ?? 0));
      if (a?.cnt === b?.cnt && a?.chk === b?.chk) continue;
      differ.push({
        block: BigInt(block),
        rows: Math.max(Number(a?.cnt ?? 0), Number(b?.cnt ?? 0)),
      });
    }
    if (differ.reduce((n, d) => n + d.rows, 0) * 3 >= rows && differ.length > 1) return null;
    const diffs: RowDiff[] = [];
    const width = 1n << BigInt(shift);
    for (let at = 0; at < differ.length; ) {
      const part: typeof differ = [];
      for (let sum = 0; at < differ.length && (sum < blockFetchRows || part.length === 0); at++) {
        part.push(differ[at] as (typeof differ)[number]);
        sum += (differ[at] as (typeof differ)[number]).rows;
      }
      const from = part.map((d) => String(d.block * width));
      const to = part.map((d) => String(d.block * width + width - 1n));
      diffs.push(...(await this.#rowDiffs(lo, hi, { from, to })));
    }
    return { src: this.#blockTotal(src), dst: this.#blockTotal(dst), diffs };
  }

  /** The shift that makes blocks of about `blockRows` rows, from the source's key values; null: none. */
  async #blockShift(
    lo: KeyValue | null,
    hi: KeyValue | null,
    ranges: number,
    known: RangeResult | undefined,
  ): Promise<number | null> {
    const { key, src } = this.#o;
    if (!integerTypes.has(key.types[0] as string)) return null;
    const first = quoteIdent(key.columns[0] as string);
    const values: unknown[] = [quoteFqname(src.relation)];
    const where = rangeCondition(key, lo, hi, values);
    const { rows } = await src.db.query<{ lo: string | null; hi: string | null; n: number }>(
      `select min(${first})::text as lo, max(${first})::text as hi,
              (select reltuples::float8 from pg_catalog.pg_class where oid = $1::regclass) as n
         from only ${quoteFqname(src.relation)} where ${where}`,
      values,
    );
    const r = rows[0];
    if (r?.lo == null || r.hi == null) return null;
    const count = known
      ? Math.max(Number(known.src.cnt), Number(known.dst.cnt))
      : r.n > 0
        ? r.n / ranges
        : this.#o.rangeRows;
    const span = Number(BigInt(r.hi) - BigInt(r.lo)) + 1;
    return Math.max(
      0,
      Math.min(62, Math.floor(Math.log2((span * blockRows) / Math.max(1, count)))),
    );
  }

  /** Count and checksum per block on one side, by block number (as text). */
  async #blockTotals(
    side: ScanSide,
    lo: KeyValue | null,
    hi: KeyValue | null,
    shift: number,
  ): Promise<Map<string, Totals>> {
    const values: unknown[] = [];
    const where = this.#where(lo, hi, values);
    const chk =
      this.#o.checksum === 'md5'
        ? `md5(string_agg(${this.#row}, E'\\n' order by ${keyColumns(this.#o.key)}))`
        : `sum(hashtextextended(${this.#row}, 0))::text`;
    const first = quoteIdent(this.#o.key.columns[0] as string);
    // The planner expects as many blocks as key values (a row each): it would sort the range,
    // on disk, to group it, and see nothing to gain from parallel workers. Hashing the
    // ~range/32 groups, in parallel where the server can, is what fits.
    const { rows: before } = await side.db.query<{ s: string; p: string }>(
      "select current_setting('enable_sort') as s, current_setting('parallel_tuple_cost') as p",
    );
    const planner = (sort: string, tuple: string) =>
      side.db.query(
        "select set_config('enable_sort', $1, true), set_config('parallel_tuple_cost', $2, true)",
        [sort, tuple],
      );
    await planner('off', '0');
    const { rows } = await side.db.query<Totals & { b: string }>(
      `select b::text, cnt, chk from (
         select ${first}::int8 >> ${shift} as b, count(*)::text as cnt, ${chk} as chk
           from only ${quoteFqname(side.relation)} where ${where} group by 1) blocks`,
      values,
    );
    await planner(before[0]?.s ?? 'on', before[0]?.p ?? '0.1');
    return new Map(rows.map((r) => [r.b, { cnt: r.cnt, chk: r.chk }]));
  }

  /** A side's totals of its blocks, in block order (md5 depends on it). */
  #blockTotal(blocks: Map<string, Totals>): Totals {
    if (blocks.size === 0) {
      return this.#o.checksum === 'md5' ? { cnt: '0', chk: '' } : { cnt: '0', chk: '0' };
    }
    if (this.#o.checksum !== 'md5') return this.#total([...blocks.values()]);
    const order = [...blocks.entries()].map(([b, t]) => ({ b: BigInt(b), t }));
    order.sort((x, y) => (x.b < y.b ? -1 : x.b > y.b ? 1 : 0));
    return this.#total(order.map((o) => o.t));
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

  async #rowDiffs(lo: KeyValue | null, hi: KeyValue | null, only: Only): Promise<RowDiff[]> {
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
  #where(lo: KeyValue | null, hi: KeyValue | null, values: Values): string {
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

  /**
   * (key, row hash) of the rows of lo < key <= hi that `only` picks: a condition, or blocks
   * of first key column values (each block read by the key's index).
   */
  async #rowHashes(
    side: ScanSide,
    lo: KeyValue | null,
    hi: KeyValue | null,
    only: Only,
  ): Promise<Map<string, { k: KeyValue; h: string }>> {
    const values: unknown[] = [];
    let where = this.#where(lo, hi, values);
    const hash =
      this.#o.checksum === 'md5' ? `md5(${this.#row})` : `hashtextextended(${this.#row}, 0)::text`;
    let sql: string;
    if (typeof only === 'function') {
      where += ` and ${only(values)}`;
      sql = `select ${keyAsText(this.#o.key)} as k, ${hash} as h from only ${quoteFqname(side.relation)} where ${where}`;
    } else {
      values.push(only.from, only.to);
      const first = quoteIdent(this.#o.key.columns[0] as string);
      sql = `select x.k, x.h
               from unnest($${values.length - 1}::int8[], $${values.length}::int8[]) as _londiste_block(lo, hi),
                    lateral (select ${keyAsText(this.#o.key)} as k, ${hash} as h
                               from only ${quoteFqname(side.relation)}
                              where ${where} and ${first} >= _londiste_block.lo
                                and ${first} <= _londiste_block.hi) x`;
    }
    const { rows } = await side.db.query<{ k: KeyValue; h: string }>(sql, values);
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

  /** Totals of ranges (in key order). */
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

/** Rows of differing blocks read in one pass, at most about. */
const blockFetchRows = 100_000;

/**
 * Rows a block, about: smaller blocks mean fewer rows read again around each difference,
 * more groups in the block pass.
 */
const blockRows = 32;

const integerTypes = new Set(['smallint', 'integer', 'bigint']);

/** Rows picked by a condition, or by blocks [from[i], to[i]] of the first key column. */
type Only = ((values: unknown[]) => string) | { from: string[]; to: string[] };

function same(r: RangeResult): boolean {
  return r.src.cnt === r.dst.cnt && r.src.chk === r.dst.chk;
}
