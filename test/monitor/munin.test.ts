/**
 * `skytools munin` read by Munin's plugin protocol rules: autoconf says yes or no (why) and
 * exits 0, suggest lists the queues a `pgq_<queue>` link can name, config declares every
 * graph and field (valid names, a label each, no values) and fetch gives a value for exactly
 * those fields (in-process, through the function the command runs); a link named
 * `pgq_<queue>` to the bin narrows to that queue, with env.db as Munin passes it ($db).
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { muninRun } from '../../src/monitor/index.js';
import { useTestDatabase } from '../harness/database.js';
import { killAfterFile, run, skytoolsBin } from './processes.js';

const db = useTestDatabase();
killAfterFile();
const links = mkdtempSync(path.join(os.tmpdir(), 'skytools-munin-'));
afterAll(() => rmSync(links, { recursive: true, force: true }));

const env = () => ({ db: db.url });
const munin = (mode: string, url = db.url) => muninRun(mode, url);
const fieldName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Graph -> field -> attribute -> value, by the protocol's line rules. */
function parseMunin(text: string) {
  const graphs = new Map<
    string,
    { attrs: Map<string, string>; fields: Map<string, Map<string, string>> }
  >();
  let current: ReturnType<typeof graphs.get> | undefined;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const multigraph = /^multigraph ([A-Za-z0-9_.]+)$/.exec(line);
    if (multigraph) {
      const name = multigraph[1] as string;
      expect(graphs.has(name), `graph ${name} given twice`).toBe(false);
      current = { attrs: new Map(), fields: new Map() };
      graphs.set(name, current);
      continue;
    }
    if (current === undefined) throw new Error(`a line before the first multigraph: ${line}`);
    const attr = /^(graph_[a-z_]+) (.+)$/.exec(line);
    if (attr) {
      current.attrs.set(attr[1] as string, attr[2] as string);
      continue;
    }
    const field = /^([^.\s]+)\.([a-z_]+) (.+)$/.exec(line);
    if (field === null) throw new Error(`not a Munin line: ${JSON.stringify(line)}`);
    const [, name, key, value] = field as unknown as [string, string, string, string];
    expect(name).toMatch(fieldName);
    if (!current.fields.has(name)) current.fields.set(name, new Map());
    current.fields.get(name)?.set(key, value);
  }
  return graphs;
}

beforeAll(async () => {
  for (const q of ['orders', 'we ird/queue']) {
    await db.query('select pgq.create_queue($1)', [q]);
    await db.query(`select pgq.set_queue_config($1, 'ticker_max_count', '1')`, [q]);
    await db.query('select pgq.register_consumer($1, $2)', [q, 'billing']);
    await db.query('select pgq.register_consumer($1, $2)', [q, 'audit.log']);
    await db.query(`select pgq.insert_event($1, 't', 'd') from generate_series(1, 6)`, [q]);
    await db.query('select pgq.ticker($1)', [q]);
  }
});

describe('skytools munin', () => {
  it('autoconf: yes with queues, no (why) without, exit 0 either way', async () => {
    const yes = await munin('autoconf');
    expect(yes).toMatchObject({ code: 0, stdout: 'yes\n' });
    const empty = await db.createDatabase('empty', { template: db.cluster.templateDatabase });
    const no = await munin('autoconf', db.url.replace(/[^/]+$/, empty));
    expect(no).toMatchObject({ code: 0, stdout: 'no (no PgQ queues in this database)\n' });
    const down = await munin('autoconf', `${db.url}_gone`);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^no \(cannot read the database: .*does not exist.*\)\n$/);
  });

  it('suggest: the queues whose names can be a link name', async () => {
    const suggest = await munin('suggest');
    expect(suggest).toMatchObject({ code: 0, stdout: 'orders\n' });
    const bad = await munin('suggestions');
    expect(bad).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'skytools munin: unknown mode "suggestions"; one of: autoconf, suggest, config, fetch\n',
    });
  });

  it('config declares every graph and field that fetch then gives a value for', async () => {
    const config = await munin('config');
    const fetch = await munin('fetch');
    expect(config.code).toBe(0);
    expect(fetch.code).toBe(0);
    const declared = parseMunin(config.stdout);
    const values = parseMunin(fetch.stdout);
    expect([...declared.keys()]).toEqual([...values.keys()]);
    for (const [name, graph] of declared) {
      expect(graph.attrs.get('graph_title'), name).toBeTruthy();
      expect(graph.attrs.get('graph_category')).toBe('pgq');
      for (const [field, attrs] of graph.fields) {
        expect(attrs.get('label'), `${name}.${field}`).toBeTruthy();
        expect(attrs.has('value'), 'no values in config').toBe(false);
      }
      const fetched = values.get(name);
      expect([...(fetched?.fields.keys() ?? [])]).toEqual([...graph.fields.keys()]);
      for (const attrs of fetched?.fields.values() ?? []) {
        expect([...attrs.keys()]).toEqual(['value']);
        expect(attrs.get('value')).toMatch(/^(U|-?\d+(\.\d+)?(e[-+]?\d+)?)$/);
      }
    }
    // Per queue: events/s, lag and pending, one field per consumer; per consumer a subgraph.
    const events = declared.get('pgq_orders_events');
    expect(events?.fields.get('events')?.get('type')).toBe('DERIVE');
    expect([...(events?.fields.keys() ?? [])]).toEqual(['events', 'audit_log', 'billing']);
    expect(declared.get('pgq_we_ird_queue_lag')?.attrs.get('graph_title')).toBe(
      'PgQ queue we ird/queue: lag',
    );
    expect(declared.has('pgq_orders_lag.billing')).toBe(true);
    expect(declared.has('pgq_orders_pending')).toBe(true);
    expect(values.get('pgq_orders_pending')?.fields.get('billing')?.get('value')).toBe('5');
  });

  it('as a link named pgq_<queue>, covers that queue only; an unknown queue is one clear line', async () => {
    const link = path.join(links, 'pgq_orders');
    symlinkSync(skytoolsBin, link);
    const config = await run(['config'], { env: env(), file: link });
    expect(config.code).toBe(0);
    const graphs = [...parseMunin(config.stdout).keys()];
    expect(graphs.length).toBeGreaterThan(0);
    expect(graphs.every((g) => g.startsWith('pgq_orders_'))).toBe(true);

    // The queue a link names must exist (checked in-process: the same function runs).
    expect(await muninRun('fetch', db.url, 'nosuch')).toEqual({
      code: 1,
      stdout: '',
      stderr: `skytools munin: no queue "nosuch" in database ${db.name}\n`,
    });
  });
});
