/**
 * The statements queue_loader runs for a row event, by row_mode: plain (insert, update and
 * delete by key), keep_latest (an update is a delete and an insert, deletes are ignored),
 * keep_all (updates are inserts, deletes are ignored) and bulk (each key's changes in a batch
 * collapsed into its last state: one delete of the key, then one insert unless it was deleted).
 * Names are quoted; values are bind parameters, typed by the server from the column.
 */
import { quoteIdent } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';
import type { EventParams } from '../payload.js';
import type { RowMode } from './settings.js';

export type Op = 'I' | 'U' | 'D';

/** One row event of a table: operation, key columns (from the type `U:id,k2`) and row. */
export interface RowChange {
  op: Op;
  pkeys: string[];
  row: EventParams;
  /** For error messages. */
  eventId: string;
}

export interface Statement {
  text: string;
  values: (string | null)[];
}

function need(change: RowChange, table: string): void {
  if (change.pkeys.length > 0) return;
  throw new SkytoolsError(
    'BAD_EVENT',
    `event ${change.eventId} (${change.op}) for table ${table} names no key columns in its type (e.g. ${change.op}:id)`,
    { event: change.eventId, table },
  );
}

function keyOf(change: RowChange, table: string): (string | null)[] {
  return change.pkeys.map((name) => {
    const value = change.row.get(name);
    if (value === undefined) {
      throw new SkytoolsError(
        'BAD_EVENT',
        `event ${change.eventId} for table ${table} has no value for its key column "${name}"`,
        { event: change.eventId, table, column: name },
      );
    }
    return value;
  });
}

function insert(target: string, change: RowChange): Statement {
  const names = [...change.row.keys()];
  return {
    text: `insert into ${target} (${names.map(quoteIdent).join(', ')}) values (${names.map((_n, i) => `$${i + 1}`).join(', ')})`,
    values: names.map((name) => change.row.get(name) ?? null),
  };
}

function where(change: RowChange, table: string, first: number): string {
  need(change, table);
  return change.pkeys.map((name, i) => `${quoteIdent(name)} = $${first + i}`).join(' and ');
}

function remove(target: string, change: RowChange, table: string): Statement {
  return {
    text: `delete from ${target} where ${where(change, table, 1)}`,
    values: keyOf(change, table),
  };
}

function update(target: string, change: RowChange, table: string): Statement {
  const names = [...change.row.keys()];
  return {
    text: `update ${target} set ${names.map((name, i) => `${quoteIdent(name)} = $${i + 1}`).join(', ')} where ${where(change, table, names.length + 1)}`,
    values: [...names.map((name) => change.row.get(name) ?? null), ...keyOf(change, table)],
  };
}

/** The statements for one change under a row mode other than bulk. */
export function statementsFor(
  mode: Exclude<RowMode, 'bulk'>,
  target: string,
  table: string,
  change: RowChange,
): Statement[] {
  switch (change.op) {
    case 'I':
      return [insert(target, change)];
    case 'U':
      if (mode === 'plain') return [update(target, change, table)];
      if (mode === 'keep_all') return [insert(target, change)];
      return [remove(target, change, table), insert(target, change)];
    case 'D':
      return mode === 'plain' ? [remove(target, change, table)] : [];
  }
}

/** bulk: each key's last state; the changes are those of one target table, in order. */
export function bulkStatements(target: string, table: string, changes: RowChange[]): Statement[] {
  const last = new Map<string, RowChange>();
  for (const change of changes) {
    need(change, table);
    const key = JSON.stringify(keyOf(change, table));
    // Delete and re-insert keeps map order = order of each key's last change.
    last.delete(key);
    last.set(key, change);
  }
  const out: Statement[] = [];
  for (const change of last.values()) out.push(remove(target, change, table));
  for (const change of last.values()) {
    if (change.op !== 'D') out.push(insert(target, change));
  }
  return out;
}
