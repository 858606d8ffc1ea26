/**
 * One table compared by key ranges at a consistent point (sync-point.ts), and for repair the
 * statements that make the local table equal. Rows that moved while the point was taken are
 * left out of the first pass and compared again at a second point; a row that moved both
 * times is named in a warning, not counted as different.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AdminSession } from '../../cascade/admin/session.js';
import { SkytoolsError } from '../../errors.js';
import { applyFix, type Fix, fixFileText, fixStatements } from './fix-statements.js';
import { type Checksum, type RangeResult, type RowDiff, TableScan, type Totals } from './ranges.js';
import type { CompareState } from './state-file.js';
import { type SyncPoint, syncPoint } from './sync-point.js';
import type { KeyValue, TableKey } from './table-key.js';

export interface RangedOptions {
  table: string;
  sourceNode: string;
  sourceRelation: string;
  localRelation: string;
  columns: string[];
  key: TableKey;
  filter: string | null;
  checksum: Checksum;
  rangeRows: number;
  throttleMs: number;
  timeout: number;
  force: boolean;
  extraConnstr?: string;
  state: CompareState;
  /** repair: write fix.<table>.sql into `dir`, apply it with `apply`. */
  repair?: { apply: boolean; dir: string };
}

export interface RangedResult {
  src: Totals;
  dst: Totals;
  diffs: RowDiff[];
  /** Rows that changed at both points, not compared. */
  unsettled: number;
  fix?: Fix;
}

const PROGRESS_MS = 5000;
/** Points taken when the table was truncated (or changed by SQL events) meanwhile. */
const ATTEMPTS = 3;

export async function rangedCompare(
  session: AdminSession,
  o: RangedOptions,
): Promise<RangedResult> {
  const point = await settledPoint(session, o, o.key);
  session.out.print(`Counting ${o.table}`);
  const moved = point.moving.kind === 'rows' ? point.moving.keys : [];
  let first: { src: Totals; dst: Totals; diffs: RowDiff[]; fix?: Fix };
  try {
    const scan = scanAt(point, o, moved);
    first = await scanAll(session, o, scan);
    if (o.repair) first.fix = await fixAt(point, o, first.diffs);
  } finally {
    await point.end();
  }
  let diffs = first.diffs;
  let unsettled = 0;
  let fix = first.fix;
  if (moved.length > 0) {
    session.out.info(
      `${o.table}: ${moved.length} rows changed while the point was taken, comparing them again`,
    );
    const again = await settledPoint(session, o, o.key);
    try {
      const still = again.moving.kind === 'rows' ? again.moving.keys : [];
      const stillIds = new Set(still.map((k) => JSON.stringify(k)));
      const recheck = moved.filter((k) => !stillIds.has(JSON.stringify(k)));
      unsettled = moved.length - recheck.length;
      const more = await scanAt(again, o, still).keyDiffs(recheck);
      diffs = [...diffs, ...more];
      if (o.repair && fix !== undefined) {
        const extra = await fixAt(again, o, more);
        fix = {
          deletes: [...fix.deletes, ...extra.deletes],
          updates: [...fix.updates, ...extra.updates],
          inserts: [...fix.inserts, ...extra.inserts],
        };
      }
    } finally {
      await again.end();
    }
    if (unsettled > 0) {
      session.out.warn(`${o.table}: ${unsettled} rows kept changing during compare, not compared`);
    }
  }
  if (fix !== undefined && o.repair) await writeAndApply(session, o, fix);
  return { src: first.src, dst: first.dst, diffs, unsettled, fix };
}

/** A point at which the moving rows are named (a truncate meanwhile: take another). */
async function settledPoint(
  session: AdminSession,
  o: RangedOptions,
  key: TableKey,
): Promise<SyncPoint> {
  for (let attempt = 1; ; attempt++) {
    const point = await syncPoint(session, {
      table: o.table,
      key,
      sourceNode: o.sourceNode,
      timeout: o.timeout,
      force: o.force,
      extraConnstr: o.extraConnstr,
    });
    if (point.moving.kind === 'rows') {
      // The row-by-row pass reads a range in key order: when the server sorts rather than
      // follows the key's index, room to sort a range in memory (the default 4MB spills).
      for (const db of [point.source, point.local]) await db.query(`set local work_mem = '64MB'`);
      return point;
    }
    await point.end();
    if (attempt >= ATTEMPTS) {
      throw new SkytoolsError(
        'TABLE_MOVING',
        `${o.table} kept changing as a whole while compare took its point (${point.moving.why}); try again later`,
        { table: o.table },
      );
    }
  }
}

function scanAt(point: SyncPoint, o: RangedOptions, exclude: readonly KeyValue[]): TableScan {
  return new TableScan({
    src: { db: point.source, relation: o.sourceRelation },
    dst: { db: point.local, relation: o.localRelation },
    columns: o.columns,
    key: o.key,
    filter: o.filter,
    exclude,
    checksum: o.checksum,
    rangeRows: o.rangeRows,
    throttleMs: o.throttleMs,
    rowByRow: o.repair !== undefined,
  });
}

async function scanAll(session: AdminSession, o: RangedOptions, scan: TableScan) {
  const earlier = o.state.table(o.table, o.sourceNode, o.checksum);
  const bounds = earlier?.bounds ?? (await scan.topBounds());
  const done = new Map<number, RangeResult>(
    Object.entries(earlier?.done ?? {}).map(([i, r]) => [Number(i), r]),
  );
  o.state.start(o.table, {
    source: o.sourceNode,
    checksum: o.checksum,
    bounds,
    done: Object.fromEntries(done),
  });
  const ranges = bounds.length + 1;
  if (done.size > 0) {
    session.out.info(`${o.table}: resuming, ${done.size} of ${ranges} ranges done before`);
  } else if (ranges > 1) {
    session.out.info(`${o.table}: ${ranges} ranges of about ${o.rangeRows} rows`);
  }
  let lastProgress = Date.now();
  let rows = 0n;
  let differing = 0;
  const result = await scan.scan({
    bounds,
    done,
    async onRange(index, r, found) {
      rows += BigInt(r.src.cnt);
      differing += found.length;
      if (found.length === 0 && r.src.cnt === r.dst.cnt && r.src.chk === r.dst.chk) {
        o.state.rangeDone(o.table, index, r);
      }
      if (Date.now() - lastProgress >= PROGRESS_MS && index + 1 < ranges) {
        lastProgress = Date.now();
        session.out.info(
          `${o.table}: ${index + 1}/${ranges} ranges, ${rows} rows, ${differing} differing rows so far`,
        );
      }
    },
  });
  const { blocks, rows: byRow } = result.narrowed;
  if (blocks + byRow > 0) {
    session.out.info(
      `${o.table}: ${blocks + byRow} of ${ranges} ranges read again: ${blocks} by blocks of key values, ${byRow} row by row`,
    );
  }
  return { src: result.src, dst: result.dst, diffs: result.diffs };
}

function fixAt(point: SyncPoint, o: RangedOptions, diffs: readonly RowDiff[]): Promise<Fix> {
  return fixStatements({
    source: point.source,
    sourceRelation: o.sourceRelation,
    localRelation: o.localRelation,
    columns: o.columns,
    key: o.key,
    diffs,
  });
}

async function writeAndApply(session: AdminSession, o: RangedOptions, fix: Fix): Promise<void> {
  const total = fix.inserts.length + fix.updates.length + fix.deletes.length;
  session.out.info(
    `${o.table}: missed: ${fix.inserts.length} inserts, ${fix.updates.length} updates, ${fix.deletes.length} deletes`,
  );
  if (total === 0 || o.repair === undefined) return;
  const file = path.join(o.repair.dir, `fix.${o.table}.sql`);
  const info = await session.localInfo();
  writeFileSync(
    file,
    fixFileText(fix, `repair of ${o.table} on node ${info.node_name} from node ${o.sourceNode}`),
  );
  session.out.info(`${o.table}: wrote ${file}`);
  if (o.repair.apply) {
    await applyFix(await session.local(), fix);
    session.out.info(`${o.table}: applied ${total} statements`);
  }
}
