/**
 * docs/cascade-library.md run as written: the setup block (createdb, setadm create-root and
 * create-branch through the real bin, psql) in a cluster of its own reached through the PG*
 * variables, then each ```ts example, type-checked strictly and run with tsx, importing
 * 'skytools' and 'pg' as a project that depends on this package would.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { useExtraClusters } from '../harness/clusters.js';

const startCluster = useExtraClusters();
const repo = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(repo, 'docs/cascade-library.md'), 'utf8');
const setup = /## Setup for the examples[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)?.[1];
const examples = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);

/** createdb and psql from PATH, else Debian's PostgreSQL 15 client (which .ci/run installs). */
function clientBinDir(): string | undefined {
  if (spawnSync('createdb', ['--version'], { stdio: 'ignore' }).status === 0) return undefined;
  const debian = '/usr/lib/postgresql/15/bin';
  if (existsSync(path.join(debian, 'createdb'))) return debian;
  throw new Error('createdb and psql are needed to run the docs setup: install postgresql-client');
}

/** A project directory that depends on skytools (this checkout) and pg, as ESM. */
function project(dir: string): void {
  writeFileSync(path.join(dir, 'package.json'), '{"type": "module", "private": true}\n');
  mkdirSync(path.join(dir, 'node_modules/@types'), { recursive: true });
  symlinkSync(repo, path.join(dir, 'node_modules/skytools'));
  symlinkSync(path.join(repo, 'node_modules/pg'), path.join(dir, 'node_modules/pg'));
  for (const types of ['pg', 'node']) {
    symlinkSync(
      path.join(repo, 'node_modules/@types', types),
      path.join(dir, 'node_modules/@types', types),
    );
  }
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2023', 'ESNext.Disposable'],
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
      include: ['*.ts'],
    }),
  );
  for (const tool of ['setadm']) {
    const shim = path.join(dir, tool);
    writeFileSync(
      shim,
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(repo, 'bin', `${tool}.js`)}" "$@"\n`,
    );
    chmodSync(shim, 0o755);
  }
}

describe('docs/cascade-library.md', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-cascade-lib-doc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // tsc over the examples and one tsx run each: slow on a busy machine, so a generous deadline.
  it('the setup and the worker, consumer, unregister and copy-helper examples run as written', {
    timeout: 240_000,
  }, async () => {
    expect(setup).toBeDefined();
    expect(examples.length).toBe(4);
    const cluster = await startCluster();
    project(dir);
    const client = clientBinDir();
    const env = {
      ...process.env,
      PATH: [dir, ...(client ? [client] : []), process.env.PATH].join(path.delimiter),
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: 'postgres',
    };
    const ran = spawnSync('bash', ['-e', '-c', setup as string], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(ran.status, `setup\nstdout:\n${ran.stdout}\nstderr:\n${ran.stderr}`).toBe(0);

    const files = examples.map((code, i) => {
      const file = path.join(dir, `example-${i}.ts`);
      writeFileSync(file, code);
      return file;
    });
    const typecheck = spawnSync(path.join(repo, 'node_modules/.bin/tsc'), ['-p', dir], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(typecheck.status, typecheck.stdout + typecheck.stderr).toBe(0);

    const outputs = files.map((file) => {
      const run = spawnSync(path.join(repo, 'node_modules/.bin/tsx'), [file], {
        cwd: dir,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, `${file}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(0);
      expect(run.stderr, file).toBe('');
      return run.stdout;
    });

    const root = new pg.Client({ ...cluster.connectionConfig('shop_root') });
    const branch = new pg.Client({ ...cluster.connectionConfig('shop_branch') });
    await root.connect();
    await branch.connect();
    try {
      // The worker: batches up to the root's tick, and the event with the root's id.
      const event = await root.query(
        `select ev_id::text as id from pgq.event_template where ev_type = 'order.created' and ev_data = '{"id": 1}'`,
      );
      const [worker, consumer, unregistered, helper] = outputs as [string, string, string, string];
      expect(worker).toMatch(/^(batch up to tick \d+: \d+ events copied\n)+branch has event/);
      expect(worker.endsWith(`branch has event ${event.rows[0].id}: {"id": 1}\n`)).toBe(true);
      // The branch's worker has not run since: its position is the example's last batch.
      const position = await branch.query(
        `select completed_tick::text as t from pgq_node.get_worker_state('orders')`,
      );
      const copiedUpTo = [...worker.matchAll(/tick (\d+):/g)].map((m) => m[1]);
      expect(copiedUpTo.at(-1)).toBe(position.rows[0].t);

      // The consumer: only the event produced after it registered, applied once.
      expect(consumer).toBe('2 {"id": 2}\n');
      const state = await branch.query(
        `select s.last_tick_id::text as t from pgq_node.local_state s where s.consumer_name = 'order_copy'`,
      );
      expect(state.rows).toEqual([]);
      expect(unregistered).toBe('order_copy unregistered\n');
      const onRoot = await root.query(
        `select count(*)::int as n from pgq.get_consumer_info('orders') where consumer_name = 'order_copy'`,
      );
      expect(onRoot.rows[0].n).toBe(0);

      // The copy helper: the order produced after it registered, and gone again after.
      expect(helper).toBe('{"id": 3}\n');
      const helperLeft = await root.query(
        `select count(*)::int as n from pgq.get_consumer_info('orders') where consumer_name = 'order_log_copy'`,
      );
      expect(helperLeft.rows[0].n).toBe(0);
    } finally {
      await root.end();
      await branch.end();
    }
  });
});
