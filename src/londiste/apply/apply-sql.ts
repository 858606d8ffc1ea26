/**
 * The set-based statements of a run: rows of one kind and one column layout, sent as one
 * text array per column (`unnest($1::text[], $2::text[], ...)`) or, for JSON rows, as one
 * JSON array of the rows as they came (`json_to_recordset`, so JSON numbers keep their
 * exact digits), and cast to the destination's column types on the server. The texts are
 * fixed per table, kind and layout, so each becomes a named prepared statement.
 */
import { quoteIdent } from '../../db/quote.js';
import type { DestColumns } from './dest-columns.js';
import type { RowOp, RowShape } from './row-change.js';

export interface RunStatement {
  name: string;
  text: string;
}

const names = new Map<string, string>();

function named(text: string): RunStatement {
  let name = names.get(text);
  if (name === undefined) {
    name = `londiste_apply_${names.size + 1}`;
    names.set(text, name);
  }
  return { name, text };
}

/** The columns of the shape the table lacks (upstream fails on them). */
export function missingColumns(shape: RowShape, columns: DestColumns): string[] {
  return shape.columns.filter((name) => !columns.has(name));
}

export function runStatement(
  op: RowOp,
  destSql: string,
  shape: RowShape,
  columns: DestColumns,
): RunStatement {
  const quoted = shape.columns.map(quoteIdent);
  const source = shape.json
    ? `pg_catalog.json_to_recordset($1::pg_catalog.json) as _lv(${quoted
        .map((name) => `${name} pg_catalog.text`)
        .join(', ')})`
    : `rows from (${quoted
        .map((_, i) => `pg_catalog.unnest($${i + 1}::pg_catalog.text[])`)
        .join(', ')}) as _lv(${quoted.join(', ')})`;
  const value = (i: number) =>
    `_lv.${quoted[i] as string}::${columns.get(shape.columns[i] as string) as string}`;
  const keyMatch = shape.keyIndexes
    .map((i) => `_ld.${quoted[i] as string} = ${value(i)}`)
    .join(' and ');
  switch (op) {
    case 'I':
      return named(
        `insert into ${destSql} (${quoted.join(', ')}) select ${quoted
          .map((_, i) => value(i))
          .join(', ')} from ${source}`,
      );
    case 'U': {
      const keySet = new Set(shape.keyIndexes);
      let targets = quoted.map((_, i) => i).filter((i) => !keySet.has(i));
      // Nothing but the key: the row is still written once, as the source's UPDATE did.
      if (targets.length === 0) targets = [...shape.keyIndexes];
      const set = targets.map((i) => `${quoted[i] as string} = ${value(i)}`).join(', ');
      return named(`update only ${destSql} as _ld set ${set} from ${source} where ${keyMatch}`);
    }
    case 'D':
      return named(`delete from only ${destSql} as _ld using ${source} where ${keyMatch}`);
  }
}

/** COPY of a run of text rows straight into the destination: an INSERT of each, faster. */
export function copyStatement(destSql: string, shape: RowShape): string {
  return `copy ${destSql} (${shape.columns.map(quoteIdent).join(', ')}) from stdin`;
}

/** The partial SQL of sqltriga made whole for the destination, as upstream does. */
export function partialSql(op: RowOp, destSql: string, sql: string): string {
  switch (op) {
    case 'I':
      return `insert into ${destSql} ${sql}`;
    case 'U':
      return `update only ${destSql} set ${sql}`;
    case 'D':
      return `delete from only ${destSql} where ${sql}`;
  }
}

const arrayEscape = /["\\]/g;
const arrayNeedsEscape = /["\\]/;

/** One element of a text[] literal: quoted always (so empty, NULL-like and blank texts stay). */
export function arrayElement(value: string | null): string {
  if (value === null) return 'NULL';
  return arrayNeedsEscape.test(value) ? `"${value.replace(arrayEscape, '\\$&')}"` : `"${value}"`;
}
