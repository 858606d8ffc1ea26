/**
 * Londiste under test as the operator runs it: node databases made with the pgq_node and
 * londiste SQL calls the admin commands make, the real `bin/londiste.js` worker as a child
 * process (its copy processes as the daemons it starts), a ticker loop on the root, a
 * producer writing to the root's tables, and row-by-row comparisons of root and replica.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll } from 'vitest';
import { quoteFqname } from '../../src/londiste/table-names.js';
import type { TestNode } from '../cascade/helpers.js';
import { poll } from '../pgqd/helpers.js';

export { poll };

const bin = path.resolve(import.meta.dirname, '../../bin/londiste.js');

export type LNode = TestNode;

export interface Proc {
  child: ChildProcess;
  output: string[];
  exited: Promise<number | string>;
}

export interface RunResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** INI files, worker processes and their copy daemons of one test file; all stopped after it. */
export function useLondiste() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-londiste-'));
  const procs: Proc[] = [];
  const killCopies = () => {
    for (const file of readdirSync(dir)) {
      if (!/\.copy\./.test(file) || file.endsWith('.tmp')) continue;
      const pid = Number.parseInt(readFileSync(path.join(dir, file), 'utf8'), 10);
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
  };
  afterAll(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    killCopies();
    rmSync(dir, { recursive: true, force: true });
  });
  const spawnTool = (args: string[]): Proc => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    const exited = new Promise<number | string>((resolve) =>
      child.on('close', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    const proc = { child, output, exited };
    procs.push(proc);
    return proc;
  };
  return {
    dir,
    killCopies,
    /** The INI of a node's worker (job_name = the node's worker name). */
    writeIni(node: LNode, queue: string, keys: Record<string, string> = {}): string {
      const file = path.join(dir, `${node.name}.ini`);
      const all: Record<string, string> = {
        job_name: `${node.name}_worker`,
        db: node.location,
        queue_name: queue,
        pidfile: path.join(dir, `${node.name}.pid`),
        logfile: path.join(dir, `${node.name}.log`),
        loop_delay: '0.1',
        ...keys,
      };
      const body = Object.entries(all)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n');
      writeFileSync(file, `[londiste]\n${body}\n`);
      return file;
    },
    /** `londiste INI worker` in the foreground of a child process. */
    startWorker(ini: string, extra: string[] = []): Proc {
      return spawnTool([ini, 'worker', ...extra]);
    },
    /** A command to its end. */
    async run(args: string[]): Promise<RunResult> {
      const p = spawnTool(args);
      const code = await p.exited;
      const text = p.output.join('');
      return { code, stdout: text, stderr: text };
    },
    /** The pid in a table's copy pidfile, or null. */
    copyPid(node: LNode, table: string): number | null {
      try {
        const text = readFileSync(path.join(dir, `${node.name}.pid.copy.${table}`), 'utf8');
        const pid = Number.parseInt(text, 10);
        return pid > 0 ? pid : null;
      } catch {
        return null;
      }
    },
    log(node: LNode): string {
      try {
        return readFileSync(path.join(dir, `${node.name}.log`), 'utf8');
      } catch {
        return '';
      }
    },
  };
}

export type LondisteFixture = ReturnType<typeof useLondiste>;

/** Whether a process lives. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `pgq.ticker()` on the root every 50 ms, as pgqd would, until stopped. */
export function startTicker(root: pg.Client) {
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        await root.query('select pgq.ticker()');
      } catch (error) {
        if (stopped) return; // the file's connections close at its end
        throw error;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  done.catch(() => {});
  return {
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** A table of the tests: (id int primary key, v text, n int). */
export function tableDdl(table: string): string {
  return `create table ${quoteFqname(table)} (id int primary key, v text, n int not null default 0)`;
}

async function expectRet(db: pg.ClientBase, sql: string, values: unknown[], max = 299) {
  const { rows } = await db.query(sql, values);
  const row = rows[0];
  if (row === undefined || row.ret_code > max) {
    throw new Error(`${sql} ${JSON.stringify(values)}: ${row?.ret_code} ${row?.ret_note}`);
  }
  return row;
}

/** add-table on the root: created (with `ddl`), registered (ok, triggers, add-table event). */
export async function addRootTable(
  root: LNode,
  queue: string,
  table: string,
  ddl = tableDdl(table),
) {
  await root.db.query(ddl);
  await expectRet(root.db, 'select * from londiste.local_add_table($1, $2)', [queue, table]);
}

/**
 * add-table on a branch or leaf: created, known to the set (as the add-table event or
 * create-* makes it), registered locally with state NULL: the worker copies it.
 */
export async function addReplicaTable(
  node: LNode,
  queue: string,
  table: string,
  options: { ddl?: string; attrs?: string } = {},
) {
  await node.db.query(options.ddl ?? tableDdl(table));
  // A running worker may be replaying the root's add-table event for the same table: the lock
  // (which its insert into table_info waits for, and which waits for its batch) orders the
  // two, so one of them finds the other's row ("Table already added") instead of colliding.
  await node.db.query('begin');
  try {
    await node.db.query('lock table londiste.table_info in share row exclusive mode');
    await expectRet(node.db, 'select * from londiste.global_add_table($1, $2)', [queue, table]);
    await node.db.query('commit');
  } catch (error) {
    await node.db.query('rollback');
    throw error;
  }
  await expectRet(
    node.db,
    'select * from londiste.local_add_table($1, $2, $3, $4)',
    [queue, table, [], options.attrs ?? null],
    301,
  );
}

export async function tableStates(
  node: LNode,
  queue: string,
): Promise<Record<string, string | null>> {
  const { rows } = await node.db.query(
    'select table_name, merge_state from londiste.get_table_list($1) where local',
    [queue],
  );
  return Object.fromEntries(rows.map((r) => [r.table_name, r.merge_state]));
}

/** Every row of a table, ordered by id. */
export async function tableRows(db: pg.ClientBase, table: string) {
  const { rows } = await db.query(`select * from ${quoteFqname(table)} order by 1`);
  return rows;
}

/** Random writes to the root's tables until stopped: inserts, updates, deletes. */
export function startProducer(
  root: pg.Client,
  tables: () => readonly string[],
  pauseMs = 3,
  /** Inserted ids start after this one (producers of merged partitions need their own). */
  idBase = 100_000,
) {
  let stopped = false;
  const ids = new Map<string, number[]>();
  const next = new Map<string, number>();
  let ops = 0;
  const done = (async () => {
    while (!stopped) {
      const list = tables();
      if (list.length === 0) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const table = list[Math.floor(Math.random() * list.length)] as string;
      const q = quoteFqname(table);
      const have = ids.get(table) ?? [];
      ids.set(table, have);
      const roll = Math.random();
      if (have.length < 5 || roll < 0.5) {
        const id = (next.get(table) ?? idBase) + 1;
        next.set(table, id);
        await root.query(`insert into ${q} (id, v) values ($1::int, md5($1::text))`, [id]);
        have.push(id);
      } else if (roll < 0.85) {
        const id = have[Math.floor(Math.random() * have.length)];
        await root.query(`update ${q} set v = md5(random()::text), n = n + 1 where id = $1`, [id]);
      } else {
        const at = Math.floor(Math.random() * have.length);
        const [id] = have.splice(at, 1);
        await root.query(`delete from ${q} where id = $1`, [id]);
      }
      ops++;
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  done.catch(() => {});
  return {
    get ops() {
      return ops;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** Rows for a table on the root before it is added (ids 1..n). */
export async function seedRows(root: pg.ClientBase, table: string, n: number) {
  await root.query(
    `insert into ${quoteFqname(table)} (id, v) select i, md5(i::text) from generate_series(1, $1) i`,
    [n],
  );
}

/** The root's last tick after a forced one (every event so far is in a batch up to it). */
export async function tickNow(root: pg.ClientBase, queue: string): Promise<bigint> {
  await root.query('select pgq.force_tick($1)', [queue]);
  await root.query('select pgq.ticker($1)', [queue]);
  const { rows } = await root.query('select last_tick_id::text as t from pgq.get_queue_info($1)', [
    queue,
  ]);
  return BigInt(rows[0]?.t as string);
}

/** The node's worker position. */
export async function workerTick(db: pg.ClientBase, queue: string): Promise<bigint> {
  const { rows } = await db.query(
    'select completed_tick::text as t from pgq_node.get_worker_state($1)',
    [queue],
  );
  return BigInt(rows[0]?.t as string);
}

/**
 * Wait until every table is ok on `node` and its worker passed the root's last tick; then
 * each table must hold the root's rows exactly.
 */
export async function waitSynced(
  root: LNode,
  node: LNode,
  queue: string,
  tables: readonly string[],
  timeout = 90_000,
  why: () => string = () => '',
) {
  await poll(
    () => tableStates(node, queue),
    (s) => tables.every((t) => s[t] === 'ok'),
    timeout,
    (s) => `tables not ok on ${node.name}: ${JSON.stringify(s)}\n${why()}`,
  );
  const tick = await tickNow(root.db, queue);
  await poll(
    () => workerTick(node.db, queue),
    (t) => t >= tick,
    timeout,
    (t) => `${node.name} at tick ${t}, root at ${tick}\n${why()}`,
  );
}
