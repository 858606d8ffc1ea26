/**
 * The `shard` handler through the real leaf worker while a producer writes on the root: the
 * root's trigger adds the hash of the key to each event (`shard_hash_func`), the leaf (shard
 * 1 of 4 by `shard_info_sql`) copies and applies only its rows; `disable_replay=1` keeps a
 * table empty. The shard info is checked; bad arguments are refused at add-table with
 * upstream's text.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createTableHandler } from '../../src/londiste/handlers/registry.js';
import { useTestDatabase } from '../harness/database.js';
import { snapshot } from '../londiste-admin/helpers.js';
import { seedRows, startProducer, tableDdl, tableRows } from '../londiste-worker/helpers.js';
import { londiste, ok, poll, rootEvents, synced, useChain } from './helpers.js';

const test = useTestDatabase();
const config = {
  shard_hash_func: 'pg_catalog.hashint4',
  shard_info_sql: 'select shard_nr, shard_mask, shard_count from public.shard_conf',
};
const { chain, startWorker } = useChain(test, 'sq', config);
const tables = ['public.s1', 'public.s2'];

beforeAll(async () => {
  const { root, leaf } = chain;
  for (const t of tables) {
    await root.db.query(tableDdl(t));
    await seedRows(root.db, t, 400);
    await leaf.db.query(tableDdl(t));
  }
  await leaf.db.query(`create table public.shard_conf (shard_nr int, shard_mask int, shard_count int);
    insert into public.shard_conf values (1, 3, 4)`);
});

describe('shard', () => {
  it('refuses bad arguments at add-table with upstream text', async () => {
    const { root } = chain;
    const before = await snapshot(root.db);
    for (const [args, text] of [
      [[], 'Specify hash key field as hash_key argument'],
      [
        ['--handler-arg=key=id', '--handler-arg=hashfunc=f'],
        "Invalid handler argument: ['hashfunc']",
      ],
      [
        ['--handler-arg=key=id', '--handler-arg=disable_replay=2'],
        "Invalid handler argument: ['disable_replay=2']",
      ],
    ] as [string[], string][]) {
      const result = await londiste([
        root.ini,
        'add-table',
        'public.s1',
        '--handler=shard',
        ...args,
      ]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain(text);
    }
    expect(await snapshot(root.db)).toEqual(before);
  });

  it('copies and applies only the leaf shard while the producer writes', {
    timeout: 240_000,
  }, async () => {
    const { root, leaf } = chain;
    await ok([root.ini, 'add-table', 'public.s1', '--handler=shard', '--handler-arg=key=id']);
    await ok([root.ini, 'add-table', 'public.s2', '--handler=shard', '--handler-arg=hash_key=id']);
    await ok([leaf.ini, 'add-table', 'public.s1', '--handler=shard', '--handler-arg=key=id']);
    await ok([
      leaf.ini,
      'add-table',
      'public.s2',
      '--handler=part',
      '--handler-arg=key=id',
      '--handler-arg=disable_replay=1',
    ]);
    const producer = startProducer(root.db, () => tables, 1);
    startWorker();
    try {
      await poll(
        async () => producer.ops,
        (n) => n >= 300,
        90_000,
      );
      await synced(chain, tables);
      await producer.stop();
      await synced(chain, tables);
      const mine = 'select * from public.s1 where hashint4(id) & 3 = 1 order by id';
      const rows = (await root.db.query(mine)).rows;
      expect(rows.length).toBeGreaterThan(50);
      expect(await tableRows(leaf.db, 'public.s1')).toEqual(rows);
      expect(await tableRows(leaf.db, 'public.s2')).toEqual([]);
      // Every event of the root carries its row's hash.
      const events = await rootEvents(chain, 'public.s1');
      expect(events.length).toBeGreaterThan(50);
      for (const event of events) {
        const id = /(?:^|&)id=(\d+)/.exec(event.ev_data)?.[1];
        const { rows: hash } = await root.db.query('select hashint4($1::int)::text as h', [id]);
        expect(event.ev_extra3).toBe(`hash=${hash[0].h}`);
      }
    } finally {
      await producer.stop();
    }
  });

  it('checks the shard info of the node', async () => {
    const { leaf } = chain;
    const handler = createTableHandler(
      { name: 'shard', args: { key: 'id' } },
      { tableName: 'public.s1', destTable: 'public.s1', config },
    );
    for (const [row, text] of [
      ['0, 3, 5', 'Invalid shard info'],
      ['0, 1, 4', 'Invalid shard info'],
      ['4, 3, 4', 'Invalid shard nr'],
      ['-1, 3, 4', 'Invalid shard nr'],
      ['null, 3, 4', 'Invalid shard info'],
    ]) {
      await leaf.db.query(
        `truncate public.shard_conf; insert into public.shard_conf values (${row})`,
      );
      const fresh = createTableHandler(
        { name: 'shard', args: { key: 'id' } },
        { tableName: 'public.s1', destTable: 'public.s1', config },
      );
      await expect(fresh.copyCondition(leaf.db), row).rejects.toThrow(text);
    }
    await leaf.db.query(
      'truncate public.shard_conf; insert into public.shard_conf values (2, 7, 8)',
    );
    expect(await handler.copyCondition(leaf.db)).toBe('(pg_catalog.hashint4(id) & 7) = 2');
  });
});
