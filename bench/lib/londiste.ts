import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installSchemas } from '../../src/db/installer.js';
import { waitFor } from './poll.js';
import type { ReplicationPair } from './replication-pair.js';
import { processCpuSeconds } from './server-cpu.js';
import { type RunningTicker, startTicker } from './ticker.js';

// The Londiste side of the replication workloads: our `londiste` bin (bin/londiste.js, which
// runs dist/: `npm run build` first) with a root on the source and a leaf on the target, each
// with an INI of defaults, and an in-process pgqd (the ticker library, defaults) on the root.
// The leaf's worker runs as a child process, so its CPU can be read from /proc.

export const londisteQueue = 'bench_londiste';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const londisteBin = path.join(repoRoot, 'bin', 'londiste.js');

export type NodeName = 'root' | 'leaf';

export interface LondisteNodes {
  /** Runs `londiste NODE.ini ARGS...`; resolves with stdout, fails with its last lines. */
  admin(node: NodeName, ...args: string[]): Promise<string>;
  /** Runs `londiste NODE.ini ARGS...` and resolves with its exit status and output. */
  run(node: NodeName, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Starts the leaf's worker (`londiste leaf.ini worker ARGS...`) as a child process. */
  startWorker(...args: string[]): WorkerProcess;
  /** The table's state on the node (`merge_state` of londiste.get_table_list), null when absent. */
  tableState(node: NodeName, table: string): Promise<string | null>;
  /**
   * add-table on the root, then on the leaf (with --expect-sync unless `leafCopies`). Every
   * workload has tables of its own: re-adding one on the root would leave its remove-table
   * event in the queue for the leaf's worker, which would undo the leaf's fresh registration.
   */
  addTable(table: string, leafCopies: boolean): Promise<void>;
  /** Stops the ticker and the worker left running, removes the INI directory. */
  close(): Promise<void>;
}

export interface WorkerProcess {
  readonly pid: number;
  /** CPU seconds (user + system) the worker has used so far. */
  cpuSeconds(): number;
  /** Throws, with the end of its log, when the worker has exited. */
  checkAlive(): void;
  /** SIGTERM (stop now), then until it has exited. */
  stop(): Promise<void>;
}

const pairs = new WeakMap<ReplicationPair, Promise<LondisteNodes | string>>();

/**
 * The root and leaf nodes of the pair, made at the first call (later calls get the same);
 * a string says why the Londiste side cannot run (no build, a command not built yet, ...).
 */
export function londisteNodes(
  pair: ReplicationPair,
  log: (line: string) => void,
): Promise<LondisteNodes | string> {
  let nodes = pairs.get(pair);
  if (nodes === undefined) {
    nodes = makeNodes(pair, log).then(
      (made) => {
        pair.onClose(made.close);
        return made;
      },
      (error: unknown) => (error as Error).message,
    );
    pairs.set(pair, nodes);
  }
  return nodes;
}

function writeIni(dir: string, node: NodeName, location: string): string {
  const file = path.join(dir, `${node}.ini`);
  writeFileSync(
    file,
    [
      '[londiste]',
      `job_name = bench_${node}`,
      `db = ${location}`,
      `queue_name = ${londisteQueue}`,
      `logfile = ${path.join(dir, `${node}.log`)}`,
      `pidfile = ${path.join(dir, `${node}.pid`)}`,
      '',
    ].join('\n'),
  );
  return file;
}

function tail(text: string, lines = 8): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

async function makeNodes(
  pair: ReplicationPair,
  log: (line: string) => void,
): Promise<LondisteNodes> {
  if (!existsSync(path.join(repoRoot, 'dist', 'cli', 'londiste.js'))) {
    throw new Error('bin/londiste.js needs dist/: run `npm run build` first');
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'skytools-bench-londiste-'));
  const ini: Record<NodeName, string> = {
    root: writeIni(dir, 'root', pair.source.location),
    leaf: writeIni(dir, 'leaf', pair.target.location),
  };
  const clients = { root: await pair.source.connect(), leaf: await pair.target.connect() };
  let ticker: RunningTicker | undefined;
  const workers = new Set<WorkerProcess>();

  const admin = (node: NodeName, ...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [londisteBin, ini[node], ...args],
        { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) {
            reject(
              new Error(`londiste ${node}.ini ${args.join(' ')}: ${tail(`${stderr}\n${stdout}`)}`),
            );
          } else resolve(stdout);
        },
      );
    });

  const run = (node: NodeName, ...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [londisteBin, ini[node], ...args],
        { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });

  const tableState = async (node: NodeName, table: string) => {
    const { rows } = await clients[node].query<{ merge_state: string | null }>(
      `select merge_state from londiste.get_table_list($1) where table_name = $2`,
      [londisteQueue, table],
    );
    return rows.length === 0 ? null : (rows[0]?.merge_state ?? 'NULL');
  };

  const close = async () => {
    for (const worker of workers) await worker.stop();
    await ticker?.stop();
    await clients.root.end();
    await clients.leaf.end();
    // SKYTOOLS_BENCH_KEEP=1 keeps the INI files and the logs to look at after the run.
    if (process.env.SKYTOOLS_BENCH_KEEP === '1') log(`  londiste files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };

  try {
    for (const client of [clients.root, clients.leaf]) {
      await installSchemas(client, ['pgq', 'pgq_node', 'londiste']);
    }
    log('  londiste: create-root on the source, create-leaf on the target');
    await admin('root', 'create-root', 'root', pair.source.location);
    await admin(
      'leaf',
      'create-leaf',
      'leaf',
      pair.target.location,
      `--provider=${pair.source.location}`,
    );
    ticker = startTicker(pair.source.config);
  } catch (error) {
    await close();
    throw error;
  }

  const startWorker = (...args: string[]): WorkerProcess => {
    const logFile = path.join(dir, 'leaf-worker.out');
    const out = openSync(logFile, 'a');
    // SKYTOOLS_BENCH_WORKER_NODE_ARGS: node switches for the worker (e.g. --cpu-prof), to profile it.
    const nodeArgs = (process.env.SKYTOOLS_BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child: ChildProcess = spawn(
      process.execPath,
      [...nodeArgs, londisteBin, ini.leaf, 'worker', ...args],
      {
        cwd: dir,
        stdio: ['ignore', out, out],
      },
    );
    const pid = child.pid;
    if (pid === undefined) throw new Error('londiste leaf.ini worker: did not start');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const logTail = () => tail(readFileSync(logFile, 'utf8'));
    const worker: WorkerProcess = {
      pid,
      cpuSeconds: () => {
        const cpu = processCpuSeconds(pid);
        if (cpu === undefined) throw new Error(`londiste worker ${pid} has exited: ${logTail()}`);
        return cpu;
      },
      checkAlive: () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`londiste leaf.ini worker exited (${child.exitCode}): ${logTail()}`);
        }
      },
      stop: async () => {
        workers.delete(worker);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited;
          clearTimeout(timer);
        }
      },
    };
    workers.add(worker);
    return worker;
  };

  return {
    admin,
    run,
    startWorker,
    tableState,
    addTable: async (table, leafCopies) => {
      if ((await tableState('root', table)) !== null) {
        throw new Error(
          `bench: ${table} is already on the root; a workload needs tables of its own`,
        );
      }
      await admin('root', 'add-table', table);
      await admin('leaf', 'add-table', table, ...(leafCopies ? [] : ['--expect-sync']));
    },
    close,
  };
}

/** Until the table is `ok` on the leaf; a worker that exits meanwhile fails the wait. */
export async function waitTableOk(
  nodes: LondisteNodes,
  worker: WorkerProcess,
  table: string,
  intervalMs = 20,
): Promise<void> {
  await waitFor(
    `londiste: ${table} ok on the leaf`,
    async () => {
      worker.checkAlive();
      return (await nodes.tableState('leaf', table)) === 'ok';
    },
    { intervalMs },
  );
}
