/**
 * Merge under load (spec §6.9, issue 17): partition roots, each with producers writing the
 * table all along, merged by merge leaves into one table of the combined database, and a
 * combined branch in another database copying the union on, with merge leaves of its own
 * that only follow behind it (they apply no rows: the combined queue brings them). The partitions' copies of the one table
 * take their roles (the lead drops the indexes for all, the others copy after it without
 * truncating, the lead restores the indexes once every partition has copied); at the end
 * the combined table holds the union of the partitions row by row, with its indexes as they
 * were, and the combined branch holds the same rows.
 *
 * Normal suite: 2 partitions, 2000 rows each. `npm run test:stress` (SKYTOOLS_STRESS=1): 3
 * partitions (two followers copy side by side), 50,000 rows each, producers for longer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  type LNode,
  type Proc,
  poll,
  startProducer,
  startTicker,
  tableRows,
  tableStates,
  tickNow,
  useLondiste,
  workerTick,
} from '../londiste-worker/helpers.js';
import {
  addMergedTable,
  combined,
  indexDefs,
  type MergeSet,
  makeMergeSet,
  unionRows,
} from './helpers.js';

const stress = process.env.SKYTOOLS_STRESS === '1';
const partCount = stress ? 3 : 2;
const rows = stress ? 50_000 : 2000;
// Slow enough that the producers write while every copy runs.
const copyRate = stress ? 25_000 : 2000;
const table = 'public.items';

const test = useTestDatabase();
const londiste = useLondiste();
let set: MergeSet;
let indexesBefore: string[];

beforeAll(async () => {
  const names = ['full', 'out', ...Array.from({ length: partCount }, (_, i) => `p${i + 1}`)];
  const [full, out, ...parts] = (await sharedNodes(test, ...names)) as LNode[];
  set = await makeMergeSet(parts, full as LNode, out as LNode, table, rows);
  await set.full.db.query('create index items_v on public.items (v)');
  indexesBefore = await indexDefs(set.full, table);
});

describe('merge of partition roots into one table while producers write on each', () => {
  it('copies each partition in its role and ends with the union, row by row', async () => {
    const tickers = await Promise.all(
      [...set.parts, set.full].map(async (n) =>
        startTicker(await test.connect({ database: n.config.database as string })),
      ),
    );
    const producers = set.parts.map((part, i) =>
      startProducer(part.db, () => [table], stress ? 2 : 5, (i + 1) * 1_000_000 + 500_000),
    );
    const workers: Proc[] = [];
    const why = () =>
      [...set.mergeLeaves, set.out, ...set.outLeaves]
        .map((n) => `--- ${n.name}\n${londiste.log(n)}`)
        .concat(workers.map((w) => w.output.join('')))
        .join('\n');
    try {
      for (const [i, leaf] of set.mergeLeaves.entries()) {
        const ini = londiste.writeIni(leaf, set.partQueues[i] as string);
        workers.push(londiste.startWorker(ini, [`--copy-rate=${copyRate}`]));
      }
      workers.push(londiste.startWorker(londiste.writeIni(set.out, combined)));
      for (const [i, leaf] of set.outLeaves.entries()) {
        workers.push(londiste.startWorker(londiste.writeIni(leaf, set.partQueues[i] as string)));
      }
      await addMergedTable(set, table);

      // Every partition copies into the one table, the combined branch after them.
      for (const [i, leaf] of set.mergeLeaves.entries()) {
        await poll(
          () => tableStates(leaf, set.partQueues[i] as string),
          (s) => s[table] === 'ok',
          240_000,
          (s) => `${table} on ${leaf.name}: ${JSON.stringify(s)}\n${why()}`,
        );
      }
      await poll(
        () => tableStates(set.out, combined),
        (s) => s[table] === 'ok',
        240_000,
        (s) => `${table} on out: ${JSON.stringify(s)}\n${why()}`,
      );
      for (const p of producers) await p.stop();
      expect(producers.every((p) => p.ops > 0)).toBe(true);

      // Everything written is merged: each merge leaf past its partition's last tick, then
      // the combined branch past the combined queue's.
      for (const [i, part] of set.parts.entries()) {
        const queue = set.partQueues[i] as string;
        const tick = await tickNow(part.db, queue);
        await poll(
          () => workerTick(set.full.db, queue),
          (t) => t >= tick,
          120_000,
          () => why(),
        );
      }
      const top = await tickNow(set.full.db, combined);
      await poll(
        () => workerTick(set.out.db, combined),
        (t) => t >= top,
        120_000,
        () => why(),
      );
      // The combined branch's merge leaves follow, behind what the combined queue merged.
      for (const queue of set.partQueues) {
        const merged = await workerTick(set.full.db, queue);
        await poll(
          () => workerTick(set.out.db, queue),
          (t) => t >= merged,
          120_000,
          () => why(),
        );
      }

      const union = await unionRows(set, table);
      expect(union.length).toBeGreaterThan(partCount * rows);
      expect(await tableRows(set.full.db, table)).toEqual(union);
      expect(await tableRows(set.out.db, table)).toEqual(union);
      expect(await indexDefs(set.full, table)).toEqual(indexesBefore);
      const { rows: ddl } = await set.full.db.query(
        'select queue_name, dropped_ddl from londiste.table_info where dropped_ddl is not null',
      );
      expect(ddl).toEqual([]);

      // The roles as they were taken: one lead, the others after it; the lead waited for
      // them before restoring the indexes.
      // The combined branch's merge leaves applied no row: the combined queue brought them.
      for (const leaf of set.outLeaves) {
        const log = londiste.log(leaf);
        expect(log).toMatch(/\{count: \d+, copied: 0, applied: 0\b/);
        expect(log).not.toMatch(/applied: [1-9]/);
      }
      const logs = set.mergeLeaves.map((n) => londiste.log(n));
      expect(logs[0]).toMatch(/copies as the lead of its partitions/);
      expect(logs[0]).toMatch(/every partition copied, restoring its indexes/);
      for (const log of logs.slice(1)) {
        expect(log).toMatch(/copies as a partition after the lead/);
        expect(log).not.toMatch(/restoring its indexes/);
      }
    } finally {
      for (const p of producers) await p.stop();
      for (const t of tickers) await t.stop();
      for (const w of workers) w.child.kill('SIGINT');
      for (const w of workers) await w.exited;
    }
  }, 600_000);
});
