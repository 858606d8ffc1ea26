/**
 * Upstream's Python londiste (Debian's python3-londiste) replicates through our schemas,
 * ticked by Debian's C pgqd and by ours: create-root, create-leaf, add-table with a copy
 * while rows change, then replay, each table equal row by row at the end. On the
 * PostgreSQL 15 leg, where .ci/run installs the Debian packages; elsewhere not run.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { type Side, upstreamToolsInstalled, useToolRun } from '../harness/tool-processes.js';
import { until } from '../harness/until.js';

const db = useTestDatabase();
const run = useToolRun();

const rowsOf = async (client: pg.Client, table: string) =>
  (await client.query(`select * from ${table} order by 1`)).rows;

async function replicateWithUpstreamLondiste(ticker: Side, name: string) {
  const rootDb = await db.createDatabase(`${name}_root`, { template: db.cluster.templateDatabase });
  const leafDb = await db.createDatabase(`${name}_leaf`, { template: db.cluster.templateDatabase });
  const root = await db.connect({ database: rootDb });
  const leaf = await db.connect({ database: leafDb });
  const ddl = `create table public.orders (id int primary key, customer text, amount numeric, note text);
    create table public."Line Items" (order_id int, line int, qty int, primary key (order_id, line))`;
  await root.query(ddl);
  await leaf.query(ddl);
  await root.query(`insert into public.orders select g, 'c' || g % 7, g * 1.5, null
    from generate_series(1, 2000) g`);
  await root.query(
    `insert into public."Line Items" select g / 3, g % 3, g from generate_series(3, 900) g`,
  );

  const connstr = (database: string) =>
    `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user} dbname=${database}`;
  const common = { queue_name: `q_${name}`, loop_delay: 0.2 };
  const rootIni = run.ini(`${name}_root`, 'londiste', { ...common, db: connstr(rootDb) });
  const leafIni = run.ini(`${name}_leaf`, 'londiste', { ...common, db: connstr(leafDb) });
  const tickerIni = run.ini(`${name}_pgqd`, 'pgqd', {
    base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
    database_list: `${rootDb}, ${leafDb}`,
    ticker_period: 0.2,
    // Ours ticks a queue with new events up to 100 times a second by default; upstream's
    // copy process hands a table over only when it finds no batch waiting, which a steady
    // writer then never allows. Upstream's tick policy, as docs/londiste.md advises.
    ...(ticker === 'ours' ? { ticker_min_interval: 0 } : {}),
    retry_period: 1,
    maint_period: 5,
  });

  const ok = async (args: string[]) => {
    const result = await run.tool('londiste', args, 'upstream');
    expect(result.output).not.toMatch(/Traceback|ERROR/);
    expect(result.code).toBe(0);
  };
  await ok([rootIni, 'create-root', 'root', connstr(rootDb)]);
  // Ticks of a quiet queue every second, not every minute: the copy's hand-over waits for ticks.
  await root.query(`select pgq.set_queue_config($1, 'ticker_idle_period', '1 second')`, [
    common.queue_name,
  ]);
  await ok([leafIni, 'create-leaf', 'leaf', connstr(leafDb), `--provider=${connstr(rootDb)}`]);
  await ok([rootIni, 'add-table', 'public.orders', 'public.Line Items']);
  run.start('pgqd', [tickerIni], ticker);
  run.start('londiste', [rootIni, 'worker'], 'upstream');
  run.start('londiste', [leafIni, 'worker'], 'upstream');
  await ok([leafIni, 'add-table', 'public.orders', 'public.Line Items']);

  // Changes while the copy runs: a steady writer until both tables are ok on the leaf.
  let writing = true;
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      await root.query(
        `begin; insert into public.orders values (${3000 + i}, 'new', ${i}, 'während');
         update public.orders set amount = amount + 1, note = E'tab\\there' where id = ${1 + ((i * 37) % 2000)};
         delete from public."Line Items" where order_id = ${1 + (i % 300)} and line = ${i % 3};
         commit`,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const okOnLeaf = until(
    () =>
      `both tables ok on the leaf (leaf log:\n${run.log(`${name}_leaf`)}\nticker log:\n${run.log(`${name}_pgqd`)})`,
    async () =>
      (await leaf.query(`select table_name, merge_state from londiste.table_info order by 1`)).rows,
    (rows) => rows.length === 2 && rows.every((row) => row.merge_state === 'ok'),
  );
  try {
    await okOnLeaf;
  } finally {
    writing = false;
    await writer;
  }
  await root.query(`insert into public.orders values (-1, 'marker', 0, null)`);
  await until(
    'the marker on the leaf',
    async () => (await leaf.query(`select 1 from public.orders where id = -1`)).rowCount,
    (count) => count === 1,
  );
  for (const table of ['public.orders', 'public."Line Items"']) {
    expect(await rowsOf(leaf, table)).toEqual(await rowsOf(root, table));
  }
  expect((await rowsOf(leaf, 'public.orders')).length).toBeGreaterThan(2000);
}

describe('upstream Python londiste on our schemas', () => {
  const enabled = upstreamToolsInstalled() && db.cluster.pgMajor === 15;
  it.runIf(enabled)(
    'replicates, ticked by the C pgqd',
    async () => {
      await replicateWithUpstreamLondiste('upstream', 'cticker');
    },
    240_000,
  );
  it.runIf(enabled)(
    'replicates, ticked by our pgqd',
    async () => {
      await replicateWithUpstreamLondiste('ours', 'ourticker');
    },
    240_000,
  );
  it('runs on the PostgreSQL 15 leg, where the Debian packages are installed', () => {
    if (db.cluster.pgMajor === 15) expect(upstreamToolsInstalled()).toBe(true);
  });
});
