/**
 * `londiste execute` (spec §6.6) through the real worker: a column added while the producer
 * writes reaches the leaf at its queue position with no event lost (and the worker's
 * metrics_port shows its batches); --dry-run names the node
 * and the statement that would fail and changes nothing; a file that fails on the leaf stops
 * its worker with a line naming the statement, and goes through once the leaf is fixed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createChain, sharedNodes } from '../cascade/helpers.js';
import { useTestDatabase } from '../harness/database.js';
import { freePort, scrape } from '../monitor/scrape.js';
import {
  addReplicaTable,
  addRootTable,
  type LNode,
  type Proc,
  poll,
  seedRows,
  startProducer,
  startTicker,
  tableRows,
  useLondiste,
  waitSynced,
} from './helpers.js';

const repo = path.resolve(import.meta.dirname, '../..');
const test = useTestDatabase();
const londiste = useLondiste();
const queue = 'ex';
const table = 'public.items';
let root: LNode;
let leaf: LNode;
let rootIni: string;
let leafIni: string;
let metricsPort: number;

function sqlFile(name: string, text: string): string {
  const file = path.join(londiste.dir, name);
  writeFileSync(file, text);
  return file;
}

async function applied(node: LNode): Promise<string[]> {
  const { rows } = await node.db.query(
    'select execute_file from londiste.applied_execute order by execute_file',
  );
  return rows.map((r) => r.execute_file);
}

async function columns(node: LNode): Promise<string[]> {
  const { rows } = await node.db.query(
    "select attname from pg_attribute where attrelid = 'public.items'::regclass and attnum > 0 and not attisdropped order by attnum",
  );
  return rows.map((r) => r.attname);
}

beforeAll(async () => {
  [root, leaf] = await sharedNodes(test, 'root', 'leaf');
  await createChain(queue, [root, leaf], 'leaf');
  await addRootTable(root, queue, table);
  await seedRows(root.db, table, 200);
  await addReplicaTable(leaf, queue, table);
  rootIni = londiste.writeIni(root, queue);
  metricsPort = await freePort();
  leafIni = londiste.writeIni(leaf, queue, { metrics_port: `127.0.0.1:${metricsPort}` });
});

describe('londiste execute', () => {
  it('adds a column on every node in queue order while the producer writes', {
    timeout: 300_000,
  }, async () => {
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const producer = startProducer(root.db, () => [table]);
    let worker: Proc | undefined;
    try {
      worker = londiste.startWorker(leafIni);
      const why = () => `${londiste.log(leaf)}\n${worker?.output.join('')}`;
      await waitSynced(root, leaf, queue, [table], 120_000, why);
      // The example of docs/londiste.md, as written.
      const doc = readFileSync(path.join(repo, 'docs/londiste.md'), 'utf8');
      const section = doc.slice(doc.indexOf('## execute: DDL through the cascade'));
      const example = /```sql\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
      expect(example).toContain('add column note');
      const file = sqlFile('add_note.sql', example);
      const run = await londiste.run([rootIni, 'execute', file]);
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/add_note\.sql: executed/);
      // Writes after the file carry the new column: the leaf needs it first.
      await root.db.query("update public.items set note = 'after' where id between 11 and 20");
      await producer.stop();
      await waitSynced(root, leaf, queue, [table], 120_000, why);
      expect(await columns(leaf)).toEqual(['id', 'v', 'n', 'note']);
      expect(await tableRows(leaf.db, table)).toEqual(await tableRows(root.db, table));
      expect(await applied(leaf)).toEqual(['add_note.sql']);
      // The worker's own counters (metrics_port), as a Prometheus scrape sees them.
      const metrics = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.find('skytools_job_info')[0]?.labels).toMatchObject({
        program: 'londiste',
        job_name: 'leaf_worker',
      });
      expect(
        metrics.value('skytools_job_batches_total', { queue, consumer: 'leaf_worker' }),
      ).toBeGreaterThan(0);
      const again = await londiste.run([rootIni, 'execute', file]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/EXECUTE: "add_note\.sql" already applied, skipping/);
    } finally {
      await producer.stop();
      await ticker.stop();
      worker?.child.kill('SIGINT');
      await worker?.exited;
    }
  });

  it('--dry-run names the node and statement that would fail, and changes nothing', async () => {
    await leaf.db.query('create table public.clash (id int)');
    const file = sqlFile(
      'clash.sql',
      '-- a table the leaf has already\ncreate table public.audit (id int);\n\ncreate table public.clash (id int);\n',
    );
    const run = await londiste.run([rootIni, 'execute', '--dry-run', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('root: clash.sql: would pass (executed)');
    expect(run.stdout).toMatch(
      /^leaf: would fail: clash\.sql failed at statement 2 \(line 4: create table public\.clash \(id int\)\): relation "clash" already exists$/m,
    );
    expect(await applied(root)).toEqual(['add_note.sql']);
    const { rows } = await root.db.query("select to_regclass('public.audit') as t");
    expect(rows[0].t).toBeNull();
  });

  it('a file that fails on the leaf stops its worker naming the statement, until the leaf is fixed', {
    timeout: 300_000,
  }, async () => {
    const ticker = startTicker(await test.connect({ database: root.config.database as string }));
    const worker = londiste.startWorker(leafIni);
    try {
      const file = path.join(londiste.dir, 'clash.sql');
      const run = await londiste.run([rootIni, 'execute', file]);
      expect(run.code, run.stdout).toBe(0);
      await poll(
        async () => londiste.log(leaf),
        (log) => /clash\.sql failed at statement 2 \(line 4: create table public\.clash/.test(log),
        120_000,
      );
      expect(await applied(leaf)).toEqual(['add_note.sql']);
      await leaf.db.query('drop table public.clash');
      await poll(
        () => applied(leaf),
        (files) => files.includes('clash.sql'),
        120_000,
        () => londiste.log(leaf),
      );
      const { rows } = await leaf.db.query("select to_regclass('public.audit')::text as t");
      expect(rows[0].t).toBe('audit');
    } finally {
      await ticker.stop();
      worker.child.kill('SIGINT');
      await worker.exited;
    }
  });

  it('names bad input in one line and changes nothing', async () => {
    const missing = await londiste.run([rootIni, 'execute', path.join(londiste.dir, 'nope.sql')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.sql: ENOENT/);
    const badAttr = sqlFile('bad_attr.sql', '--*-- Need-Everything: x\nselect 1;\n');
    const bad = await londiste.run([rootIni, 'execute', badAttr]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad_attr\.sql line 1: unknown attribute "Need-Everything: x"/);
    const onLeaf = sqlFile('on_leaf.sql', 'select 1;\n');
    const notRoot = await londiste.run([leafIni, 'execute', onLeaf]);
    expect(notRoot.code).toBe(1);
    expect(notRoot.stderr).toMatch(/Node is not root node: ex/);
    expect(await applied(leaf)).not.toContain('on_leaf.sql');
  });
});
