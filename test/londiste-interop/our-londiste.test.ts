/**
 * Our londiste against upstream's pieces: our worker through upstream's londiste SQL
 * (Debian's postgresql-15-londiste-sql), and nodes set up and copied by one tool, then
 * replayed by the other (upstream's Python londiste and ours, both ways). Ticked by
 * Debian's C pgqd. On the PostgreSQL 15 leg, where .ci/run installs the Debian packages.
 */
import type { ChildProcess } from 'node:child_process';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '../harness/database.js';
import { type Side, upstreamToolsInstalled, useToolRun } from '../harness/tool-processes.js';
import { until } from '../harness/until.js';

const db = useTestDatabase();
const run = useToolRun();

const rowsOf = async (client: pg.Client, table: string) =>
  (await client.query(`select * from ${table} order by 1`)).rows;

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });

interface Plan {
  name: string;
  /** Whose londiste SQL the databases get. */
  schema: Side;
  /** Who creates the nodes, adds the tables and runs the workers through the copy. */
  first: Side;
  /** Who runs the workers afterwards. */
  later: Side;
}

async function replicate(plan: Plan) {
  const { name } = plan;
  const database = async (suffix: string) => {
    if (plan.schema === 'ours') {
      return db.createDatabase(`${name}_${suffix}`, { template: db.cluster.templateDatabase });
    }
    const created = await db.createDatabase(`${name}_${suffix}`);
    const client = await db.connect({ database: created });
    await client.query('create extension londiste cascade');
    await client.end();
    return created;
  };
  const rootDb = await database('root');
  const leafDb = await database('leaf');
  const root = await db.connect({ database: rootDb });
  const leaf = await db.connect({ database: leafDb });
  const ddl = `create table public.accounts (id bigint primary key, owner text, balance numeric,
    tags text[], doc jsonb, seen timestamptz)`;
  await root.query(ddl);
  await leaf.query(ddl);
  await root.query(`insert into public.accounts select g, 'o' || g, g / 3.0, array['a', 'b"c'],
    '{"k": [1, null]}', case when g % 5 = 0 then 'infinity' else now() end
    from generate_series(1, 3000) g`);

  const connstr = (d: string) =>
    `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user} dbname=${d}`;
  const common = { queue_name: `q_${name}`, loop_delay: 0.2 };
  const rootIni = run.ini(`${name}_root`, 'londiste', { ...common, db: connstr(rootDb) });
  const leafIni = run.ini(`${name}_leaf`, 'londiste', { ...common, db: connstr(leafDb) });
  const tickerIni = run.ini(`${name}_pgqd`, 'pgqd', {
    base_connstr: `host=${db.cluster.host} port=${db.cluster.port} user=${db.cluster.user}`,
    database_list: `${rootDb}, ${leafDb}`,
    ticker_period: 0.2,
  });
  const ok = async (side: Side, args: string[]) => {
    const result = await run.tool('londiste', args, side);
    expect(result.output).not.toMatch(/Traceback|ERROR|error:/);
    expect(result.code).toBe(0);
  };
  await ok(plan.first, [rootIni, 'create-root', 'root', connstr(rootDb)]);
  await root.query(`select pgq.set_queue_config($1, 'ticker_idle_period', '1 second')`, [
    common.queue_name,
  ]);
  await ok(plan.first, [
    leafIni,
    'create-leaf',
    'leaf',
    connstr(leafDb),
    `--provider=${connstr(rootDb)}`,
  ]);
  await ok(plan.first, [rootIni, 'add-table', 'public.accounts']);
  run.start('pgqd', [tickerIni], 'upstream');
  let workers = [
    run.start('londiste', [rootIni, 'worker'], plan.first),
    run.start('londiste', [leafIni, 'worker'], plan.first),
  ];
  await ok(plan.first, [leafIni, 'add-table', 'public.accounts']);
  const change = (i: number) =>
    root.query(`begin;
      insert into public.accounts values (${10_000 + i}, 'n${i}', ${i}, '{}', null, '-infinity');
      update public.accounts set balance = balance + 1, doc = '{"i": ${i}}' where id = ${1 + ((i * 13) % 3000)};
      delete from public.accounts where id = ${3000 - i};
      commit`);
  let i = 0;
  for (; i < 50; i++) await change(i);
  await until(
    () => `the table ok on the leaf (leaf log:\n${run.log(`${name}_leaf`)})`,
    async () => (await leaf.query(`select merge_state from londiste.table_info`)).rows,
    (rows) => rows.length === 1 && rows[0].merge_state === 'ok',
  );
  if (plan.later !== plan.first) {
    await Promise.all(workers.map(stop));
    workers = [
      run.start('londiste', [rootIni, 'worker'], plan.later),
      run.start('londiste', [leafIni, 'worker'], plan.later),
    ];
  }
  for (; i < 100; i++) await change(i);
  await root.query(`insert into public.accounts (id) values (-1)`);
  await until(
    () => `the marker on the leaf (leaf log:\n${run.log(`${name}_leaf`)})`,
    async () => (await leaf.query(`select 1 from public.accounts where id = -1`)).rowCount,
    (count) => count === 1,
  );
  expect(await rowsOf(leaf, 'public.accounts')).toEqual(await rowsOf(root, 'public.accounts'));
  await Promise.all(workers.map(stop));
}

describe('our londiste with upstream pieces', () => {
  const enabled = upstreamToolsInstalled() && db.cluster.pgMajor === 15;
  it.runIf(enabled)(
    'our tool replicates through upstream londiste SQL',
    async () => {
      await replicate({ name: 'upsql', schema: 'upstream', first: 'ours', later: 'ours' });
    },
    240_000,
  );
  it.runIf(enabled)(
    'nodes made and copied by upstream londiste, replayed by ours',
    async () => {
      await replicate({ name: 'uptoours', schema: 'ours', first: 'upstream', later: 'ours' });
    },
    240_000,
  );
  it.runIf(enabled)(
    'nodes made and copied by ours, replayed by upstream londiste',
    async () => {
      await replicate({ name: 'ourstoup', schema: 'ours', first: 'ours', later: 'upstream' });
    },
    240_000,
  );
});
