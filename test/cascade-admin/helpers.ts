/**
 * The set admin under test: the real `setadm` bin as a child process (built first by
 * `npm run build`), node databases of the run's cluster, long-running worker processes that
 * are stopped at file end, and a snapshot of everything pgq_node keeps, to prove that a
 * refused command or a dry run changed nothing.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll } from 'vitest';
import type { TestDatabase } from '../harness/database.js';
import { poll } from '../pgqd/helpers.js';

export { poll };

const bin = path.resolve(import.meta.dirname, '../../bin/setadm.js');

export interface RunResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

export interface Worker {
  readonly child: ChildProcess;
  readonly output: string[];
  readonly exited: Promise<number | string>;
}

export interface Running {
  /** stderr so far. */
  stderr(): string;
  done: Promise<RunResult>;
}

export interface AdminFixture {
  dir: string;
  run(args: string[], env?: Record<string, string>): Promise<RunResult>;
  /** The same, watched while it runs. */
  start(args: string[], env?: Record<string, string>): Running;
  /** `setadm ... worker` in the foreground of a child process. */
  startWorker(args: string[]): Worker;
  /** Stop a worker with SIGINT (graceful) and wait for it. */
  stopWorker(worker: Worker): Promise<number | string>;
  writeIni(name: string, keys: Record<string, string>, section?: string): string;
}

export function useAdmin(): AdminFixture {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-set-'));
  const workers: Worker[] = [];
  afterAll(async () => {
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGKILL');
        await w.exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const start = (args: string[], env: Record<string, string> = {}): Running => {
    const child = spawn(process.execPath, [bin, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const done = new Promise<RunResult>((resolve) =>
      child.on('close', (code, signal) => resolve({ code: code ?? signal ?? -1, stdout, stderr })),
    );
    return { stderr: () => stderr, done };
  };
  return {
    dir,
    run(args, env = {}) {
      return start(args, env).done;
    },
    start,
    startWorker(args) {
      const child = spawn(process.execPath, [bin, ...args, 'worker'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: string[] = [];
      child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
      child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
      const exited = new Promise<number | string>((resolve) =>
        child.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
      );
      const worker = { child, output, exited };
      workers.push(worker);
      return worker;
    },
    async stopWorker(worker) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill('SIGINT');
      }
      return worker.exited;
    },
    writeIni(name, keys, section = 'cascade_admin') {
      const file = path.join(dir, `${name}.ini`);
      const body = Object.entries(keys)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n');
      writeFileSync(file, `[${section}]\n${body}\n`);
      return file;
    },
  };
}

/** libpq key=value string of a database of the run's cluster. */
export function connstr(test: TestDatabase, database: string): string {
  const { host, port, user } = test.cluster;
  return `host=${host} port=${port} user=${user} dbname=${database}`;
}

export interface NodeDb {
  name: string;
  database: string;
  connstr: string;
  db: pg.Client;
}

/**
 * A database for one node: with pgq and pgq_node installed (the template) or empty
 * (`empty: true`, so create-* has to install them).
 */
export async function nodeDb(
  test: TestDatabase,
  name: string,
  options: { empty?: boolean } = {},
): Promise<NodeDb> {
  const database = await test.createDatabase(
    name,
    options.empty ? {} : { template: test.cluster.templateDatabase },
  );
  const db = await test.connect({ database });
  return { name, database, connstr: connstr(test, database), db };
}

/** `--db X --queue Q`: the command line without an INI file. */
export function cli(node: NodeDb, queue: string): string[] {
  return ['--db', node.connstr, '--queue', queue];
}

/** Everything pgq_node and the pgq registrations of the nodes hold, for before/after checks. */
export async function snapshot(nodes: NodeDb[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const n of nodes) {
    const has = await n.db.query(
      `select to_regclass('pgq_node.node_info') is not null as node, to_regclass('pgq.queue') is not null as pgq`,
    );
    const state: Record<string, unknown> = { schemas: has.rows[0] };
    if (has.rows[0].node) {
      for (const table of ['node_location', 'node_info', 'local_state', 'subscriber_info']) {
        state[table] = (await n.db.query(`select * from pgq_node.${table} order by 1, 2`)).rows;
      }
    }
    if (has.rows[0].pgq) {
      state.subscriptions = (
        await n.db.query(
          `select q.queue_name, c.co_name, s.sub_last_tick from pgq.subscription s
             join pgq.queue q on q.queue_id = s.sub_queue join pgq.consumer c on c.co_id = s.sub_consumer
            order by 1, 2`,
        )
      ).rows;
    }
    out[n.name] = state;
  }
  return out;
}

/** Produce events on the root and tick, one batch. Returns the tick id. */
export async function produceAndTick(root: NodeDb, queue: string, events: string[]) {
  for (const data of events) {
    await root.db.query(`select pgq.insert_event($1, 'data', $2)`, [queue, data]);
  }
  await root.db.query('select pgq.force_tick($1)', [queue]);
  const { rows } = await root.db.query('select pgq.ticker($1)::text as tick', [queue]);
  return rows[0].tick as string;
}

/** The node's worker_last_tick. */
export async function lastTick(node: NodeDb, queue: string): Promise<bigint> {
  const { rows } = await node.db.query(
    'select worker_last_tick::text as t from pgq_node.get_node_info($1)',
    [queue],
  );
  return BigInt(rows[0].t ?? '0');
}

/** create-root, create-branch below it and create-leaf below the branch, by the CLI. */
export async function buildTree(
  admin: AdminFixture,
  queue: string,
  root: NodeDb,
  branch: NodeDb,
  leaf: NodeDb,
): Promise<void> {
  const steps: string[][] = [
    [...cli(root, queue), 'create-root', root.name, root.connstr],
    [
      ...cli(branch, queue),
      'create-branch',
      branch.name,
      branch.connstr,
      '--provider',
      root.connstr,
    ],
    [...cli(leaf, queue), 'create-leaf', leaf.name, leaf.connstr, '--provider', branch.connstr],
  ];
  for (const step of steps) {
    const result = await admin.run(step);
    if (result.code !== 0) throw new Error(`setadm ${step.join(' ')}: ${result.stderr}`);
  }
}
