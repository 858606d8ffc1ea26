import type pg from 'pg';
import { comparePair, type WorkloadResult } from '../lib/compare.js';
import type { BenchContext } from '../lib/context.js';
import { type LondisteNodes, londisteNodes, type WorkerProcess } from '../lib/londiste.js';
import { rowTableDdl } from '../lib/row-load.js';
import { timed } from '../lib/stats.js';

// `londiste leaf.ini compare` of a table in sync (1M rows, --quick 100k) with the leaf's
// worker and the root's ticker running, against a hand-written hash aggregate over both
// tables (`count(*)` and `sum(hashtextextended(t::text, 0))`, both servers at once) in the
// same run. And `repair --apply` of the same table with 1000 rows changed, deleted and added
// on the leaf, against compare of the table in sync.

const compareTable = 'bench.londiste_compare';
const repairTable = 'bench.londiste_repair';

interface Prepared {
  nodes: LondisteNodes;
  worker: WorkerProcess;
  root: pg.Client;
  leaf: pg.Client;
  count: number;
  close(): Promise<void>;
}

/** The table filled alike on both sides (no events), added with --expect-sync, worker on. */
async function prepare(ctx: BenchContext, table: string): Promise<Prepared | string> {
  const pair = await ctx.replicationPair();
  if (typeof pair === 'string') return pair;
  const nodes = await londisteNodes(pair, ctx.log);
  if (typeof nodes === 'string') return nodes;
  const count = ctx.quick ? 100_000 : 1_000_000;
  const root = await pair.source.connect();
  const leaf = await pair.target.connect();
  ctx.log(`  filling ${count.toLocaleString('en-US')} rows on both sides`);
  for (const client of [root, leaf]) {
    await client.query(rowTableDdl(table));
    await client.query(
      `insert into ${table} (id, qty, name, note, amount, created)
       select i, i % 100, 'customer-' || i, 'first note of row ' || i, i * 1.25,
              timestamptz '2026-01-01 00:00:00+00'
         from generate_series(1, $1) i`,
      [count],
    );
    await client.query(`vacuum analyze ${table}`);
  }
  await nodes.addTable(table, false);
  const worker = nodes.startWorker();
  return {
    nodes,
    worker,
    root,
    leaf,
    count,
    async close() {
      await worker.stop();
      await root.end();
      await leaf.end();
    },
  };
}

/** One compare of the table in sync: it must exit 0. */
async function compareSeconds(p: Prepared, table: string): Promise<number> {
  let result = { code: 0, stdout: '', stderr: '' };
  const seconds = await timed(async () => {
    result = await p.nodes.run('leaf', 'compare', table);
  });
  if (result.code !== 0) {
    throw new Error(`bench: compare ${table} exited ${result.code}: ${result.stderr.trim()}`);
  }
  return seconds;
}

export async function compareWorkload(ctx: BenchContext): Promise<WorkloadResult> {
  const p = await prepare(ctx, compareTable);
  if (typeof p === 'string') return { unit: 'rows/s', skipped: p };
  try {
    const sql = `select count(*) as n, sum(hashtextextended(t::text, 0)) as h from ${compareTable} t`;
    const result = await comparePair({
      repeat: ctx.repeat,
      unit: 'rows/s',
      log: ctx.log,
      workload: async () => p.count / (await compareSeconds(p, compareTable)),
      baseline: async () => {
        let same = false;
        const seconds = await timed(async () => {
          const [a, b] = await Promise.all([p.root.query(sql), p.leaf.query(sql)]);
          same = a.rows[0]?.h === b.rows[0]?.h;
        });
        if (!same) throw new Error(`bench: ${compareTable} differs in the hand-written query`);
        return p.count / seconds;
      },
    });
    return { ...result, rows: p.count };
  } finally {
    await p.close();
  }
}

export async function repairWorkload(ctx: BenchContext): Promise<WorkloadResult> {
  const p = await prepare(ctx, repairTable);
  if (typeof p === 'string') return { unit: 'rows/s', skipped: p };
  const step = Math.floor(p.count / 400);
  const damage = async () => {
    await p.leaf.query('begin');
    await p.leaf.query('set local session_replication_role = replica');
    await p.leaf.query(`update ${repairTable} set qty = qty + 1 where id % ${step} = 0`);
    await p.leaf.query(`delete from ${repairTable} where id % ${step} = 1 and id <= ${step * 300}`);
    await p.leaf.query(
      `insert into ${repairTable} (id, qty, name) select g, 0, 'extra'
         from generate_series(${p.count + 1}, ${p.count + 300}) g`,
    );
    await p.leaf.query('commit');
  };
  try {
    const result = await comparePair({
      repeat: ctx.repeat,
      unit: 'rows/s',
      log: ctx.log,
      workload: async () => {
        await damage();
        let run = { code: 0, stdout: '', stderr: '' };
        const seconds = await timed(async () => {
          run = await p.nodes.run('leaf', 'repair', repairTable, '--apply');
        });
        if (run.code !== 1 || !run.stderr.includes('applied 1000 statements')) {
          throw new Error(`bench: repair exited ${run.code}: ${run.stderr.trim()}`);
        }
        return p.count / seconds;
      },
      // After each repair the table is in sync again: compare must find it equal.
      baseline: async () => p.count / (await compareSeconds(p, repairTable)),
    });
    return { ...result, rows: p.count, differing_rows: 1000 };
  } finally {
    await p.close();
  }
}
