/**
 * Tables set up with handlers by upstream's Python londiste replay with our worker: upstream
 * adds a table on the root with `shard` (its trigger carries the hash) and on the leaf with
 * `bulk` and `shard`, storing the `handler=name(args)` attributes as it does; our leaf
 * worker reads those attributes, copies and replays: the bulk table equals the root's, the
 * shard table holds the leaf's shard. Ticked by Debian's C pgqd. PostgreSQL 15 leg only.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { formatTableAttrs } from '../../src/londiste/handlers/registry.js';
import { useTestDatabase } from '../harness/database.js';
import { upstreamToolsInstalled, useToolRun } from '../harness/tool-processes.js';
import { until } from '../harness/until.js';

const db = useTestDatabase();
const run = useToolRun();

const rowsOf = async (client: pg.Client, sql: string) => (await client.query(sql)).rows;

describe('handlers set up by upstream Python londiste', () => {
  const enabled = upstreamToolsInstalled() && db.cluster.pgMajor === 15;
  it.runIf(enabled)('replay with our worker', { timeout: 240_000 }, async () => {
    const rootDb = await db.createDatabase('h_root', { template: db.cluster.templateDatabase });
    const leafDb = await db.createDatabase('h_leaf', { template: db.cluster.templateDatabase });
    const root = await db.connect({ database: rootDb });
    const leaf = await db.connect({ database: leafDb });
    const ddl = `create table public.orders (id int primary key, customer text, amount numeric);
      create table public.keyed (id int primary key, v text);
      create table public.daily (id int primary key, v text)`;
    await root.query(ddl);
    await leaf.query(ddl);
    await root.query(`insert into public.orders select g, 'c' || g, g * 1.5 from generate_series(1, 1000) g;
      insert into public.keyed select g, md5(g::text) from generate_series(1, 1000) g`);

    const connstr = (database: string) =>
      `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user} dbname=${database}`;
    const shard = {
      shard_hash_func: 'pg_catalog.hashint4',
      shard_info_sql: 'select 1 as shard_nr, 1 as shard_mask, 2 as shard_count',
    };
    const common = { queue_name: 'q_handlers', loop_delay: 0.2, parallel_copies: 2, ...shard };
    const modules = {
      handler_modules:
        'londiste.handlers.bulk, londiste.handlers.shard, londiste.handlers.dispatch',
    };
    const rootIni = run.ini('h_root', 'londiste', { ...common, ...modules, db: connstr(rootDb) });
    const leafIni = run.ini('h_leaf', 'londiste', { ...common, ...modules, db: connstr(leafDb) });
    const tickerIni = run.ini('h_pgqd', 'pgqd', {
      base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
      database_list: `${rootDb}, ${leafDb}`,
      ticker_period: 0.2,
      retry_period: 1,
      maint_period: 5,
    });
    const upstream = async (args: string[]) => {
      const result = await run.tool('londiste', args, 'upstream');
      expect(result.output, args.join(' ')).not.toMatch(/Traceback|ERROR/);
      expect(result.code, `${args.join(' ')}\n${result.output}`).toBe(0);
    };
    await upstream([rootIni, 'create-root', 'root', connstr(rootDb)]);
    await root.query(`select pgq.set_queue_config('q_handlers', 'ticker_idle_period', '1 second')`);
    await upstream([
      leafIni,
      'create-leaf',
      'leaf',
      connstr(leafDb),
      `--provider=${connstr(rootDb)}`,
    ]);
    await upstream([rootIni, 'add-table', 'public.orders', 'public.daily']);
    await upstream([
      rootIni,
      'add-table',
      'public.keyed',
      '--handler=shard',
      '--handler-arg=key=id',
    ]);
    await upstream([
      leafIni,
      'add-table',
      'public.orders',
      '--handler=bulk',
      '--handler-arg=method=2',
    ]);
    await upstream([
      leafIni,
      'add-table',
      'public.keyed',
      '--handler=shard',
      '--handler-arg=key=id',
    ]);
    // londiste 3.12 cannot add a table with a dispatch handler (its dispatcher, built on
    // the shard handler, demands a key and then refuses it as an unknown argument): it adds
    // the table, and the attribute its change-handler would store is set with the SQL API.
    await upstream([leafIni, 'add-table', 'public.daily']);
    await leaf.query(
      `select * from londiste.local_set_table_attrs('q_handlers', 'public.daily', $1)`,
      [formatTableAttrs({ name: 'daily_batch', args: {} })],
    );
    // The attributes as upstream stored them are the ones ours writes.
    expect(
      await rowsOf(leaf, 'select table_name, table_attrs from londiste.table_info order by 1'),
    ).toEqual([
      { table_name: 'public.daily', table_attrs: 'handler=daily_batch' },
      {
        table_name: 'public.keyed',
        table_attrs: formatTableAttrs({ name: 'shard', args: { key: 'id' } }),
      },
      {
        table_name: 'public.orders',
        table_attrs: formatTableAttrs({ name: 'bulk', args: { method: '2' } }),
      },
    ]);
    run.start('pgqd', [tickerIni], 'upstream');
    // Ours with upstream's INI as it is (its handler_modules name Python modules).
    run.start('londiste', [leafIni, 'worker'], 'ours');

    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await root.query(`begin;
          insert into public.orders values (${2000 + i}, 'new', ${i});
          update public.orders set amount = amount + 1 where id = ${1 + ((i * 37) % 1000)};
          delete from public.orders where id = ${1 + ((i * 91) % 1000)};
          insert into public.keyed values (${2000 + i}, 'k');
          update public.keyed set v = 'changed' where id = ${1 + ((i * 13) % 1000)};
          insert into public.daily values (${2000 + i}, 'd' || ${i});
          commit`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await until(
        () => `both tables ok on the leaf (leaf log:\n${run.log('h_leaf')})`,
        async () => rowsOf(leaf, 'select merge_state from londiste.table_info'),
        (rows) => rows.length === 3 && rows.every((row) => row.merge_state === 'ok'),
      );
    } finally {
      writing = false;
      await writer;
    }
    await root.query(`insert into public.orders values (-1, 'marker', 0)`);
    await until(
      'the marker on the leaf',
      async () => (await leaf.query('select 1 from public.orders where id = -1')).rowCount,
      (count) => count === 1,
    );
    const all = 'select * from public.orders order by id';
    expect(await rowsOf(leaf, all)).toEqual(await rowsOf(root, all));
    const mine = 'select * from public.keyed where hashint4(id) & 1 = 1 order by id';
    const expected = await rowsOf(root, mine);
    expect(expected.length).toBeGreaterThan(100);
    expect(await rowsOf(leaf, 'select * from public.keyed order by id')).toEqual(expected);
    // daily_batch: the copy in the parent, each later insert in the partition of its batch's
    // day (made by londiste.create_partition, so inherited: the parent's rows and its
    // partitions' together are the root's rows).
    await root.query(`insert into public.daily values (-1, 'marker')`);
    await until(
      'the daily marker on the leaf',
      async () => (await leaf.query('select 1 from public.daily where id = -1')).rowCount,
      (count) => count === 1,
    );
    const daily = 'select * from public.daily order by id';
    expect(await rowsOf(leaf, daily)).toEqual(await rowsOf(root, daily));
    const parts = await rowsOf(
      leaf,
      `select c.relname, (select count(*)::int from public.daily d where d.tableoid = c.oid) as n
         from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = 'public.daily'::regclass order by 1`,
    );
    expect(parts.length).toBeGreaterThan(0);
    for (const part of parts) expect(part.relname).toMatch(/^daily_\d{4}_\d{2}_\d{2}$/);
    expect(parts.reduce((n, p) => n + p.n, 0)).toBeGreaterThan(0);
  });
});
