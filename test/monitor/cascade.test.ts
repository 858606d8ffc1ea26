/**
 * Cascade and Londiste metrics from two databases of one monitor: node type, provider and
 * subscribers, a stored consumer error, table states, and the progress of an initial COPY
 * seen in pg_stat_progress_copy while it runs. Nodes are made through pgq_node's and
 * londiste's SQL API (no workers needed to have something to look at).
 */
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Monitor, MonitorMetrics } from '../../src/monitor/index.js';
import { useTestDatabase } from '../harness/database.js';
import { until } from '../harness/until.js';
import { parsePromText } from './prom-text.js';

const root = useTestDatabase();
let branchName: string;
let branch: pg.Client;
let monitor: Monitor;
const metrics = new MonitorMetrics();
const q = 'cq';

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

async function call(client: Queryable, sql: string, values: unknown[]) {
  const result = await client.query(sql, values);
  const ret = result.rows[0]?.ret_code as number | undefined;
  if (ret !== undefined && ret >= 300) throw new Error(`${sql}: ${JSON.stringify(result.rows[0])}`);
  return result.rows[0];
}

beforeAll(async () => {
  branchName = await root.createDatabase('branch', { template: root.cluster.templateDatabase });
  branch = await root.connect({ database: branchName });
  const locations = [
    ['root1', `dbname=${root.name}`],
    ['branch1', `dbname=${branchName}`],
  ];
  for (const [node, location] of locations) {
    await call(root, 'select * from pgq_node.register_location($1, $2, $3, false)', [
      q,
      node,
      location,
    ]);
    await call(branch, 'select * from pgq_node.register_location($1, $2, $3, false)', [
      q,
      node,
      location,
    ]);
  }
  await call(
    root,
    `select * from pgq_node.create_node($1, 'root', 'root1', 'rootworker', null, null, null)`,
    [q],
  );
  const tick = (await root.query('select last_tick_id from pgq.get_queue_info($1)', [q])).rows[0]
    ?.last_tick_id;
  await call(root, 'select * from pgq_node.register_subscriber($1, $2, $3, $4)', [
    q,
    'branch1',
    'branchworker',
    tick,
  ]);
  await call(
    branch,
    `select * from pgq_node.create_node($1, 'branch', 'branch1', 'branchworker', 'root1', $2, null)`,
    [q, tick],
  );
  await call(branch, 'select * from pgq_node.set_consumer_error($1, $2, $3)', [
    q,
    'branchworker',
    'boom: no route',
  ]);
  for (const client of [root, branch] as Queryable[]) {
    await client.query('create table public.orders (id int primary key, note text)');
    await client.query('create table public."Mixed Case" (id int primary key)');
  }
  await call(root, 'select * from londiste.local_add_table($1, $2)', [q, 'public.orders']);
  await call(root, 'select * from londiste.local_add_table($1, $2)', [q, 'public.Mixed Case']);
  for (const table of ['public.orders', 'public.Mixed Case']) {
    await call(branch, 'select * from londiste.global_add_table($1, $2)', [q, table]);
  }
  await call(branch, 'select * from londiste.local_add_table($1, $2)', [q, 'public.orders']);
  monitor = new Monitor([root.url, root.url.replace(/[^/]+$/, encodeURIComponent(branchName))]);
});

afterAll(async () => {
  await monitor?.close();
  await branch?.end();
});

it('shows the cascade nodes, their links and a stored consumer error', async () => {
  const m = parsePromText(await metrics.render(await monitor.snapshot()));
  expect(m.value('skytools_up', { database: branchName })).toBe(1);
  const info = m.find('skytools_cascade_node_info').map((s) => s.labels);
  expect(info).toEqual(
    expect.arrayContaining([
      {
        database: root.name,
        queue: q,
        node: 'root1',
        type: 'root',
        provider: 'root1',
        worker: 'rootworker',
      },
      {
        database: branchName,
        queue: q,
        node: 'branch1',
        type: 'branch',
        provider: 'root1',
        worker: 'branchworker',
      },
    ]),
  );
  expect(m.value('skytools_cascade_node_subscribers', { database: root.name, node: 'root1' })).toBe(
    1,
  );
  expect(
    m.value('skytools_cascade_node_lag_seconds', { database: branchName, node: 'branch1' }),
  ).toBeGreaterThanOrEqual(0);
  expect(
    m.value('skytools_cascade_consumer_error', { database: branchName, consumer: 'branchworker' }),
  ).toBe(1);
  expect(m.value('skytools_cascade_node_paused', { database: branchName, node: 'branch1' })).toBe(
    0,
  );
  // The branch's worker is a consumer of the root's queue: its lag shows there.
  expect(
    m.value('skytools_pgq_consumer_lag_seconds', { database: root.name, consumer: 'branchworker' }),
  ).toBeGreaterThanOrEqual(0);
  const snapshot = await monitor.snapshot();
  expect(
    snapshot.databases[1]?.cascadeConsumers.find((c) => c.consumer === 'branchworker')?.error,
  ).toBe('boom: no route');
});

it('shows the Londiste table states, and the rows of a COPY into a table while it runs', async () => {
  const first = parsePromText(await metrics.render(await monitor.snapshot()));
  const state = (database: string, table: string) =>
    first.find('skytools_londiste_table_state', { database, table }).map((s) => s.labels.state);
  expect(state(root.name, 'public.orders')).toEqual(['ok']);
  expect(state(root.name, 'public.Mixed Case')).toEqual(['ok']);
  expect(state(branchName, 'public.orders')).toEqual(['new']);
  expect(
    first.value('skytools_londiste_table_local', {
      database: branchName,
      table: 'public.Mixed Case',
    }),
  ).toBe(0);
  expect(
    first.value('skytools_londiste_table_local', { database: branchName, table: 'public.orders' }),
  ).toBe(1);
  expect(first.find('skytools_londiste_table_copy_rows')).toEqual([]);

  // An initial copy as Londiste makes one: COPY FROM STDIN into the subscriber's table, in a
  // replica session (the table's Londiste trigger stays quiet).
  await branch.query('set session_replication_role = replica');
  const stream = branch.query(copyFrom('copy public.orders (id, note) from stdin'));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  // The server counts rows as it flushes them in batches (of up to 1000): send more than that.
  stream.write(Array.from({ length: 3000 }, (_, i) => `${i}\trow ${i}\n`).join(''));
  const during = await until(
    'the COPY to show in the metrics',
    async () => parsePromText(await metrics.render(await monitor.snapshot())),
    (m) =>
      (m.value('skytools_londiste_table_copy_rows', {
        database: branchName,
        table: 'public.orders',
      }) ?? 0) >= 1000,
  );
  expect(
    during.value('skytools_londiste_table_copy_bytes', {
      database: branchName,
      table: 'public.orders',
    }),
  ).toBeGreaterThan(0);
  stream.end();
  await done;
  const after = parsePromText(await metrics.render(await monitor.snapshot()));
  expect(after.find('skytools_londiste_table_copy_rows')).toEqual([]);
});
