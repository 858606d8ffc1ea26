/**
 * repair's statements (spec §6.10): for each row that differs, the INSERT, UPDATE or DELETE
 * that makes the local table equal to the source. The source's rows are read in the
 * compare's own snapshot, and the server quotes their values (`quote_nullable`), so every
 * type comes back exactly as it was; only the keys of rows to delete are quoted here.
 */
import type pg from 'pg';
import { quoteIdent, quoteLiteral } from '../../db/quote.js';
import { quoteFqname } from '../table-names.js';
import type { RowDiff } from './ranges.js';
import { type KeyValue, keyLiterals, keySetCondition, type TableKey } from './table-key.js';

export interface FixInput {
  /** The source's session at the compare's point. */
  source: pg.ClientBase;
  sourceRelation: string;
  /** The local table the statements change. */
  localRelation: string;
  columns: readonly string[];
  key: TableKey;
  diffs: readonly RowDiff[];
}

export interface Fix {
  deletes: string[];
  updates: string[];
  inserts: string[];
}

const chunk = 5000;

export async function fixStatements(input: FixInput): Promise<Fix> {
  const target = quoteFqname(input.localRelation);
  const keyOf = (kind: RowDiff['kind']) =>
    input.diffs.filter((d) => d.kind === kind).map((d) => d.key);
  const deletes = keyOf('extra').map(
    (k) => `delete from only ${target} where ${keyLiterals(input.key, k)};`,
  );
  const keyCols = new Set(input.key.columns);
  const cols = input.columns;
  const nonKey = cols.filter((c) => !keyCols.has(c));
  const insertExpr = `format('insert into %s (%s) values (%s);', ${quoteLiteral(target)}, ${quoteLiteral(
    cols.map(quoteIdent).join(', '),
  )}, concat_ws(', ', ${cols.map((c) => `quote_nullable(${quoteIdent(c)})`).join(', ')}))`;
  const assign = (c: string) =>
    `${quoteLiteral(`${quoteIdent(c)} = `)} || quote_nullable(${quoteIdent(c)})`;
  const updateExpr = `format('update only %s set %s where %s;', ${quoteLiteral(target)},
      concat_ws(', ', ${nonKey.map(assign).join(', ') || "''"}),
      concat_ws(' and ', ${input.key.columns.map(assign).join(', ')}))`;
  const inserts = await fromSource(input, insertExpr, keyOf('missing'));
  const updates = nonKey.length === 0 ? [] : await fromSource(input, updateExpr, keyOf('changed'));
  return { deletes, updates, inserts };
}

async function fromSource(input: FixInput, expr: string, keys: KeyValue[]): Promise<string[]> {
  const out: string[] = [];
  for (let at = 0; at < keys.length; at += chunk) {
    const values: unknown[] = [];
    const where = keySetCondition(input.key, keys.slice(at, at + chunk), values);
    const { rows } = await input.source.query<{ s: string }>(
      `select ${expr} as s from only ${quoteFqname(input.sourceRelation)} where ${where}`,
      values,
    );
    out.push(...rows.map((r) => r.s));
  }
  return out;
}

/** The fix file's text: deletes first (a changed unique value may free a key), then the rest. */
export function fixFileText(fix: Fix, header: string): string {
  const lines = [`-- ${header}`, ...fix.deletes, ...fix.updates, ...fix.inserts];
  return `${lines.join('\n')}\n`;
}

/**
 * The statements applied on the local node in one transaction, as replica (the table's
 * triggers stay quiet, as when the worker applies events).
 */
export async function applyFix(local: pg.ClientBase, fix: Fix): Promise<void> {
  const all = [...fix.deletes, ...fix.updates, ...fix.inserts];
  await local.query('begin');
  try {
    await local.query('set local session_replication_role = replica');
    for (let at = 0; at < all.length; at += 1000) {
      await local.query(all.slice(at, at + 1000).join('\n'));
    }
    await local.query('commit');
  } catch (error) {
    await local.query('rollback');
    throw error;
  }
}
