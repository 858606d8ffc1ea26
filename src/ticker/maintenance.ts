/**
 * One step of the maintenance plan that pgq.maint_operations() returns: VACUUM of a table,
 * or a call of a function with 0 or 1 argument, repeated while it returns a non-zero integer
 * (rotation, pgq_node and londiste steps work in bounded slices that way).
 */
import type pg from 'pg';
import { quoteIdent } from '../db/quote.js';

export interface MaintOperation {
  func_name: string;
  func_arg: string | null;
}

/** `schema.name` (or a name already quoted) → a safely quoted qualified name. */
export function quoteQualifiedName(name: string): string {
  const parts: string[] = [];
  let i = 0;
  while (i < name.length) {
    if (name[i] === '"') {
      let part = '';
      i++;
      while (i < name.length) {
        if (name[i] === '"' && name[i + 1] === '"') {
          part += '"';
          i += 2;
        } else if (name[i] === '"') {
          i++;
          break;
        } else {
          part += name[i++];
        }
      }
      parts.push(part);
    } else {
      const end = name.indexOf('.', i);
      parts.push(name.slice(i, end < 0 ? name.length : end));
      i = end < 0 ? name.length : end;
    }
    if (name[i] === '.') i++;
  }
  return parts.map((part) => quoteIdent(part)).join('.');
}

/** The statement and parameters of one step. */
export function operationStatement(op: MaintOperation): { text: string; values: unknown[] } {
  const name = op.func_name.trim().toLowerCase();
  if (name === 'vacuum' || name === 'vacuum analyze') {
    return { text: `${name} ${quoteQualifiedName(op.func_arg ?? '')}`, values: [] };
  }
  const func = quoteQualifiedName(op.func_name.trim());
  return op.func_arg === null
    ? { text: `select ${func}()`, values: [] }
    : { text: `select ${func}($1)`, values: [op.func_arg] };
}

/** Whether a step asks to be called again: its first column reads as a non-zero integer. */
export function wantsRepeat(result: pg.QueryResult): boolean {
  const first = result.rows[0] === undefined ? undefined : Object.values(result.rows[0])[0];
  if (first === null || first === undefined) return false;
  const match = /^\s*[+-]?\d+\s*$/.exec(String(first));
  return match !== null && Number(first) !== 0;
}
