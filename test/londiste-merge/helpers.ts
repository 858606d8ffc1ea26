/**
 * Merge set-ups (spec §6.9) for the tests: partition roots, each merged by a merge leaf into
 * the combined root queue of one database, and a combined branch in another with merge
 * leaves of its own that wait behind it (ready to take over the merging); made
 * with the SQL calls create-root / create-leaf --merge / add-table --merge-all make, so the
 * tests spend their time in the workers and copies under test.
 */
import { expect } from 'vitest';
import { quoteFqname } from '../../src/londiste/table-names.js';
import { createRoot, createSubscriber, type TestNode } from '../cascade/helpers.js';
import { addRootTable, type LNode, tableRows } from '../londiste-worker/helpers.js';

export const combined = 'combined';

/** A merged table: the partition's number in `part`, rows keyed by id. */
export function mergedDdl(table: string): string {
  return `create table ${quoteFqname(table)} (id int primary key, v text, n int not null default 0, part int)`;
}

export interface MergeSet {
  /** Partition roots, queue `part<i>` on the i-th (from 1). */
  parts: LNode[];
  partQueues: string[];
  /** The combined database's merge leaf nodes (one per partition), same database as `full`. */
  mergeLeaves: LNode[];
  /** The combined root. */
  full: LNode;
  /** A combined branch. */
  out: LNode;
  /** The combined branch's merge leaves (waiting behind it), same database as `out`. */
  outLeaves: LNode[];
}

/**
 * `parts` partition roots and the combined nodes, the table on each with `rows` rows per
 * partition (partition i holds ids i*10^6 + 1 ...), registered on the partition roots.
 */
export async function makeMergeSet(
  parts: LNode[],
  full: LNode,
  out: LNode,
  table: string,
  rows: number,
): Promise<MergeSet> {
  const partQueues = parts.map((_, i) => `part${i + 1}`);
  await createRoot(full, combined);
  await createSubscriber(out, full, combined, 'branch');
  const mergeLeaves: LNode[] = [];
  const outLeaves: LNode[] = [];
  for (const [i, part] of parts.entries()) {
    const queue = partQueues[i] as string;
    await createRoot(part, queue);
    const leaf: TestNode = { ...full, name: `${full.name}_p${i + 1}` };
    await createSubscriber(leaf, part, queue, 'leaf', { combinedQueue: combined });
    mergeLeaves.push(leaf);
    const behind: TestNode = { ...out, name: `${out.name}_p${i + 1}` };
    await createSubscriber(behind, part, queue, 'leaf', { combinedQueue: combined });
    outLeaves.push(behind);
    await addRootTable(part, queue, table, mergedDdl(table));
    await part.db.query(
      `insert into ${quoteFqname(table)} (id, v, part)
       select $2::int * 1000000 + i, md5(i::text), $2::int from generate_series(1, $1::int) i`,
      [rows, i + 1],
    );
  }
  for (const node of [full, out]) await node.db.query(mergedDdl(table));
  return { parts, partQueues, mergeLeaves, full, out, outLeaves };
}

/**
 * add-table with --merge-all on a merge leaf of each database: one call registers the table
 * from every partition queue and in the combined queue (ok at once on the combined root, to
 * be copied on the combined branch; ok at once in the partition queues behind it).
 */
export async function addMergedTable(set: MergeSet, table: string) {
  await expectRet(set.out, 'select * from londiste.global_add_table($1, $2)', [combined, table]);
  for (const node of [set.full, set.out]) {
    for (const queue of set.partQueues) {
      await expectRet(node, 'select * from londiste.global_add_table($1, $2)', [queue, table]);
    }
    await expectRet(node, 'select * from londiste.local_add_table($1, $2, $3)', [
      set.partQueues[0],
      table,
      ['merge_all'],
    ]);
  }
}

async function expectRet(node: LNode, sql: string, values: unknown[]) {
  const { rows } = await node.db.query(sql, values);
  expect(rows[0]?.ret_code, `${sql}: ${rows[0]?.ret_note}`).toBeLessThan(300);
}

/** The union of the partitions' rows, by id. */
export async function unionRows(set: MergeSet, table: string) {
  const all = [];
  for (const part of set.parts) all.push(...(await tableRows(part.db, table)));
  return all.sort((a, b) => a.id - b.id);
}

/** The primary key and indexes of a table, as definitions. */
export async function indexDefs(node: LNode, table: string): Promise<string[]> {
  const { rows } = await node.db.query(
    `select pg_catalog.pg_get_indexdef(indexrelid) as def from pg_catalog.pg_index
      where indrelid = $1::regclass order by 1`,
    [quoteFqname(table)],
  );
  return rows.map((r) => r.def as string);
}
