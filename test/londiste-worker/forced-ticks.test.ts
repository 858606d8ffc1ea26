/**
 * The copy handshake does not wait for the ticker's idle period: with nothing written on the
 * root and a ticker that ticks an idle queue only once an hour, a table still goes from NULL
 * to ok, because the worker and the copy force ticks on the root while a copy is under way
 * (the copy's first one without waiting for it).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import {
  addReplicaTable,
  addRootTable,
  type LNode,
  poll,
  seedRows,
  startTicker,
  tableRows,
  tableStates,
  useLondiste,
} from './helpers.js';

const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'idle';
let root: LNode;
let leaf: LNode;

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  for (const [key, value] of [
    ['ticker_idle_period', '1 hour'],
    ['ticker_max_lag', '1 hour'],
  ]) {
    await root.db.query('select pgq.set_queue_config($1, $2, $3)', [queue, key, value]);
  }
});

describe('forced ticks during a copy', () => {
  it('a table on an idle root reaches ok without idle ticks', { timeout: 120_000 }, async () => {
    await addRootTable(root, queue, 'public.quiet');
    await seedRows(root.db, 'public.quiet', 1000);
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const worker = londiste.startWorker(londiste.writeIni(leaf, queue));
    try {
      await addReplicaTable(leaf, queue, 'public.quiet');
      await poll(
        () => tableStates(leaf, queue),
        (s) => s['public.quiet'] === 'ok',
        90_000,
        (s) => `states ${JSON.stringify(s)}\n${londiste.log(leaf)}`,
      );
      expect(await tableRows(leaf.db, 'public.quiet')).toEqual(
        await tableRows(root.db, 'public.quiet'),
      );
      // The copy's ANALYZE runs after its commit, beside the catch-up: it still happens.
      await poll(
        async () =>
          (
            await leaf.db.query<{ at: Date | null }>(
              "select last_analyze as at from pg_stat_user_tables where relid = 'public.quiet'::regclass",
            )
          ).rows[0]?.at ?? null,
        (at) => at !== null,
        60_000,
        () => `public.quiet never analyzed\n${londiste.log(leaf)}`,
      );
    } finally {
      await ticker.stop();
      worker.child.kill('SIGINT');
      await worker.exited;
    }
  });
});
