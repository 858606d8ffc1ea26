/**
 * A root -> leaf chain for the handler tests, set up as an operator does it: two databases
 * made into nodes by `londiste create-root` / `create-leaf`, tables added by `add-table`
 * (run in this process), the leaf's real worker as a child process (and its copy processes),
 * a ticker on the root, and a reader of the root's queue events for the checks.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import type { TestDatabase } from '../harness/database.js';
import { type LondisteNode, londiste, useNodes } from '../londiste-admin/helpers.js';
import { poll, startTicker, useLondiste } from '../londiste-worker/helpers.js';

export { londiste, poll };

export interface Chain {
  queue: string;
  root: LondisteNode;
  leaf: LondisteNode;
  /** The leaf worker's INI (pidfile and logfile in the test's folder). */
  leafIni: string;
  /** The leaf worker's log so far and its output, for failure messages. */
  why(): string;
}

/** Run a londiste command in this process; it must succeed. */
export async function ok(args: string[]): Promise<string> {
  const result = await londiste(args);
  expect(result.stderr, args.join(' ')).not.toMatch(/ERROR|error:/);
  expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stderr;
}

/**
 * The chain of a test file: root and leaf made in beforeAll, the root ticked, the leaf's
 * worker started by `startWorker` (after the tables a test wants in place are added).
 * `keys` go into both INI files.
 */
export function useChain(test: TestDatabase, queue: string, keys: Record<string, string> = {}) {
  const node = useNodes(test);
  const procs = useLondiste();
  const chain = { queue } as Chain;
  let worker: ReturnType<typeof procs.startWorker> | null = null;
  beforeAll(async () => {
    chain.root = await node(`${queue}_root`, queue, { keys });
    chain.leaf = await node(`${queue}_leaf`, queue, { keys });
    await ok([chain.root.ini, 'create-root', 'root', chain.root.connstr]);
    await ok([
      chain.leaf.ini,
      'create-leaf',
      'leaf',
      chain.leaf.connstr,
      `--provider=${chain.root.connstr}`,
    ]);
    const all = {
      job_name: 'leaf_worker',
      db: chain.leaf.connstr,
      queue_name: queue,
      pidfile: path.join(procs.dir, 'leaf.pid'),
      logfile: path.join(procs.dir, 'leaf.log'),
      loop_delay: '0.1',
      ...keys,
    };
    chain.leafIni = path.join(procs.dir, 'leaf-worker.ini');
    writeFileSync(
      chain.leafIni,
      `[londiste]\n${Object.entries(all)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n')}\n`,
    );
    ticker = startTicker(await test.connect({ database: dbName(chain.root) }));
    chain.why = () => `${procs.log({ name: 'leaf' } as never)}\n${worker?.output.join('') ?? ''}`;
  });
  let ticker: ReturnType<typeof startTicker> | null = null;
  afterAll(async () => {
    await ticker?.stop();
    if (worker !== null && worker.child.exitCode === null) {
      worker.child.kill('SIGINT');
      await worker.exited;
    }
  });
  return {
    chain,
    startWorker() {
      worker ??= procs.startWorker(chain.leafIni);
      return worker;
    },
  };
}

function dbName(node: LondisteNode): string {
  return /dbname=(\S+)/.exec(node.connstr)?.[1] as string;
}

/** The local tables' states on a node. */
export async function states(db: pg.ClientBase, queue: string) {
  const { rows } = await db.query(
    'select table_name, merge_state from londiste.get_table_list($1) where local',
    [queue],
  );
  return Object.fromEntries(rows.map((r) => [r.table_name, r.merge_state])) as Record<
    string,
    string | null
  >;
}

/** Wait until the tables are ok on the leaf and its worker passed the root's last tick. */
export async function synced(chain: Chain, tables: readonly string[], timeout = 90_000) {
  await poll(
    () => states(chain.leaf.db, chain.queue),
    (s) => tables.every((t) => s[t] === 'ok'),
    timeout,
    (s) => `tables not ok: ${JSON.stringify(s)}\n${chain.why()}`,
  );
  await chain.root.db.query('select pgq.force_tick($1)', [chain.queue]);
  await chain.root.db.query('select pgq.ticker($1)', [chain.queue]);
  const { rows } = await chain.root.db.query(
    'select last_tick_id::text as t from pgq.get_queue_info($1)',
    [chain.queue],
  );
  const tick = BigInt(rows[0]?.t as string);
  await poll(
    async () =>
      BigInt(
        (
          await chain.leaf.db.query(
            'select completed_tick::text as t from pgq_node.get_worker_state($1)',
            [chain.queue],
          )
        ).rows[0]?.t as string,
      ),
    (t) => t >= tick,
    timeout,
    (t) => `leaf at tick ${t}, root at ${tick}\n${chain.why()}`,
  );
}

/** The root queue's events of a table, in ev_id order (every event table of the queue). */
export async function rootEvents(chain: Chain, table: string) {
  const { rows: info } = await chain.root.db.query(
    'select queue_data_pfx from pgq.queue where queue_name = $1',
    [chain.queue],
  );
  const parent = info[0]?.queue_data_pfx as string;
  const { rows: events } = await chain.root.db.query(
    `select ev_id::text, ev_time::text, ev_txid::text, ev_type, ev_data,
            ev_extra1, ev_extra2, ev_extra3, ev_extra4
       from ${parent} e where ev_extra1 = $1 order by e.ev_id`,
    [table],
  );
  return events;
}
