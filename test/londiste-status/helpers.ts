/**
 * Londiste sets for the status, wait-sync and compare tests: a root and a leaf (and a
 * branch where asked) made with the SQL calls the admin tool makes (test/cascade/helpers.ts),
 * tables registered with londiste.local_add_table and their states set with
 * local_set_table_state, as the worker and its copy helpers would; our `londiste` bin run as
 * a child process (Debian's /usr/bin/londiste shadows it on PATH).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { expect } from 'vitest';
import type { TestNode } from '../cascade/helpers.js';

export const londisteBin = path.resolve(import.meta.dirname, '../../bin/londiste.js');

// What a command leaves in its working directory (compare's --resume state, repair's fix
// files) goes to a scratch directory, never into the checkout.
let scratch: string | undefined;
const scratchDir = () => {
  scratch ??= mkdtempSync(path.join(os.tmpdir(), 'skytools-londiste-'));
  return scratch;
};

export interface RunResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

export interface Running {
  stderr(): string;
  done: Promise<RunResult>;
  /** SIGINT (a worker's graceful stop), then its result. */
  stop(): Promise<RunResult>;
  /** SIGKILL (a crash), then its result. */
  kill(): Promise<RunResult>;
}

/** `londiste ARGS` as a child process (in `cwd`, default a scratch directory), watched while it runs. */
export function startLondiste(args: string[], cwd?: string): Running {
  const child = spawn(process.execPath, [londisteBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: cwd ?? scratchDir(),
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
  return {
    stderr: () => stderr,
    done,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return done;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return done;
    },
  };
}

export function londiste(args: string[], cwd?: string): Promise<RunResult> {
  return startLondiste(args, cwd).done;
}

/** `--db LOCATION --queue Q`: the node's command line without an INI file. */
export function cli(node: TestNode, queue: string): string[] {
  return ['--db', node.location, '--queue', queue];
}

async function expectRet(db: pg.ClientBase, sql: string, values: unknown[]) {
  const { rows } = await db.query(sql, values);
  expect(rows[0]?.ret_code, `${sql} ${JSON.stringify(values)}: ${rows[0]?.ret_note}`).toBeLessThan(
    300,
  );
}

/** Register `table` on the node (root: in the set and ok; others: state NULL). */
export async function addTable(node: TestNode, queue: string, table: string) {
  await expectRet(node.db, 'select * from londiste.local_add_table($1, $2)', [queue, table]);
}

/** Set the table's merge_state on the node, as the worker and the copy helpers do. */
export async function setState(
  node: TestNode,
  queue: string,
  table: string,
  state: string | null,
  snapshot: string | null = null,
) {
  await expectRet(node.db, 'select * from londiste.local_set_table_state($1, $2, $3, $4)', [
    queue,
    table,
    snapshot,
    state,
  ]);
}

/** Rows written on a replica's table past its deny trigger (as the worker writes them). */
export async function replicaQuery(node: TestNode, sql: string) {
  await node.db.query(
    `set session_replication_role = replica; ${sql}; reset session_replication_role`,
  );
}
