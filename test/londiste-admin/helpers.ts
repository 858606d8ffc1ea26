/**
 * Londiste's admin commands under test: node databases of the run's cluster made into a
 * root and a leaf by `londiste create-root/create-leaf` itself, the commands run in this
 * process through runLondiste (stdout and stderr captured), and a snapshot of what the
 * londiste schema keeps, to prove a refused command or a dry run changed nothing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { afterAll, vi } from 'vitest';
import { runLondiste } from '../../src/cli/londiste.js';
import type { TestDatabase } from '../harness/database.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface LondisteNode {
  name: string;
  connstr: string;
  ini: string;
  db: pg.Client;
}

/** Run `londiste ARGS` in this process. */
export async function londiste(args: string[]): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  try {
    const code = await runLondiste(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    vi.restoreAllMocks();
  }
}

export function useNodes(test: TestDatabase) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'skytools-londiste-admin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /**
   * A node database: `empty` from template0 (create-* installs every schema), else cloned
   * from the run's template. `keys` go into its INI file.
   */
  return async function node(
    name: string,
    queue: string,
    options: { empty?: boolean; keys?: Record<string, string> } = {},
  ): Promise<LondisteNode> {
    const database = await test.createDatabase(
      name,
      options.empty ? {} : { template: test.cluster.templateDatabase },
    );
    const config = test.config({ database });
    const connstr = `host=${config.host} port=${config.port} user=${config.user} dbname=${database}`;
    const ini = path.join(dir, `${name}.ini`);
    const keys = { job_name: name, db: connstr, queue_name: queue, ...options.keys };
    writeFileSync(
      ini,
      `[londiste]\n${Object.entries(keys)
        .map(([k, v]) => `${k} = ${v}`)
        .join('\n')}\n`,
    );
    const db = await test.connect({ database });
    return { name, connstr, ini, db };
  };
}

/** Everything the londiste schema keeps and the triggers on user tables, as one value. */
export async function snapshot(db: pg.Client) {
  const tables = await db.query('select * from londiste.table_info order by nr');
  const seqs = await db.query('select * from londiste.seq_info order by nr');
  const triggers = await db.query(
    `select tgrelid::regclass::text as rel, tgname from pg_trigger where not tgisinternal order by 1, 2`,
  );
  const relations = await db.query(
    `select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') order by 1, 2`,
  );
  return {
    tables: tables.rows,
    seqs: seqs.rows,
    triggers: triggers.rows,
    relations: relations.rows,
  };
}

/** The local table_info rows as name → [local, merge_state, table_attrs, dest_table]. */
export async function tableRows(db: pg.Client, queue: string) {
  const { rows } = await db.query(
    'select table_name, local, merge_state, table_attrs, dest_table from londiste.table_info where queue_name = $1 order by nr',
    [queue],
  );
  return rows;
}

/** The triggers of a table: name and the function call as pg_get_triggerdef shows it. */
export async function triggersOf(db: pg.Client, table: string) {
  const { rows } = await db.query(
    `select tgname, pg_get_triggerdef(t.oid) as def from pg_trigger t
      where tgrelid = $1::regclass and not tgisinternal order by tgname`,
    [table],
  );
  return rows as { tgname: string; def: string }[];
}
