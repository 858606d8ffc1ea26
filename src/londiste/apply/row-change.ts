/**
 * What a table event says, in the three formats of PgQ's triggers (spec pgq §1.5):
 * - logutriga: ev_type `I:pk1,pk2` (`U:`, `D:`), ev_data the urlencoded row;
 * - sqltriga: ev_type `I`/`U`/`D`, ev_data partial SQL (`(a,b) values (...)`, `a='1' where
 *   id='2'`, `id='2'`);
 * - jsontriga: ev_type `{"op":"INSERT","table":[...],"pkey":[...]}`, ev_data a JSON object;
 * and `R` (or op TRUNCATE) for a truncate. Values stay text: the urlencoded ones are the
 * types' text forms; JSON rows go to the server as they came, so numbers keep their digits
 * (see apply-sql.ts).
 */
import { SkytoolsError } from '../../errors.js';
import type { Event } from '../../pgq/event.js';
import { decodeComponent } from '../../pgq/urlencode.js';
import { lineSafe } from './encoded-line.js';

export type RowOp = 'I' | 'U' | 'D';

/** The column layout of a row: its columns and which of them are the key, by position. */
export interface RowShape {
  /** Identifies the layout: same signature, same columns and key in the same order. */
  readonly signature: string;
  readonly columns: readonly string[];
  /** Positions of the key columns in `columns`. */
  readonly keyIndexes: readonly number[];
  /** Rows of this shape come as JSON objects (jsontriga), else as text values. */
  readonly json: boolean;
}

export type RowChange =
  | {
      kind: 'row';
      op: RowOp;
      shape: RowShape;
      /** The values in the shape's column order, as text (urlencoded rows). */
      values: (string | null)[] | null;
      /**
       * With `encodedInserts`: an insert's values still urlencoded, in the shape's column
       * order, joined by tabs with `\N` for NULL (values is then null); the COPY line is
       * made from it (encoded-line.ts).
       */
      encoded?: string | null;
      /** The row as a JSON object (jsontriga rows, passed on as they came), else null. */
      json: string | null;
      /** Bytes the row holds, about. */
      size: number;
      /** The key's values joined, to find a key repeated within a run. */
      key: string;
    }
  | { kind: 'sql'; op: RowOp; sql: string }
  | { kind: 'truncate' };

/** Shapes seen before, by the text they were made from (logutriga) or their columns (JSON). */
export class ShapeCache {
  readonly #shapes = new Map<string, RowShape>();
  #lastKeyList = '';
  #lastNames: readonly string[] = [];
  #last: RowShape | null = null;

  /**
   * The shape of a urlencoded row by its key list and its (still encoded) column names:
   * most rows have the shape of the row before, which costs a comparison of names only.
   */
  urlencodedShape(
    keyList: string,
    names: readonly string[],
    make: () => { columns: string[]; key: string[] },
  ): RowShape {
    const last = this.#last;
    if (last !== null && keyList === this.#lastKeyList && sameNames(names, this.#lastNames)) {
      return last;
    }
    const shape = this.shape(`u${keyList}&${names.join('&')}`, false, make);
    this.#last = shape;
    this.#lastKeyList = keyList;
    this.#lastNames = names;
    return shape;
  }

  /**
   * An insert's encoded values joined (see RowChange.encoded) when the row has the names of
   * the last urlencoded row in the same order and the same key list, read in one pass
   * without splitting the row; null when it has not (the general path decides).
   */
  sameShapeLine(keyList: string, data: string): { shape: RowShape; line: string } | null {
    const shape = this.#last;
    if (shape === null || keyList !== this.#lastKeyList) return null;
    const names = this.#lastNames;
    let line = '';
    let at = 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if (name.length === 0 || !data.startsWith(name, at)) return null;
      const after = at + name.length;
      const amp = data.indexOf('&', after);
      const end = amp < 0 ? data.length : amp;
      if (i > 0) line += '\t';
      if (after === end) line += '\\N';
      else if (data.charCodeAt(after) === 61) line += data.slice(after + 1, end);
      else return null; // another name that starts with this one
      if (amp < 0 && i < names.length - 1) return null;
      at = end + 1;
    }
    return at > data.length ? { shape, line } : null;
  }

  shape(
    signature: string,
    json: boolean,
    make: () => { columns: string[]; key: string[] },
  ): RowShape {
    let shape = this.#shapes.get(signature);
    if (shape === undefined) {
      const { columns, key } = make();
      const keyIndexes = key.map((name) => {
        const at = columns.indexOf(name);
        if (at < 0) {
          throw new SkytoolsError('BAD_EVENT', `key column "${name}" is not in the event's row`, {
            column: name,
            columns,
          });
        }
        return at;
      });
      shape = { signature, columns, keyIndexes, json };
      if (this.#shapes.size > 1000) this.#shapes.clear();
      this.#shapes.set(signature, shape);
    }
    return shape;
  }
}

const keySeparator = '\u0001';

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function badEvent(event: Event, why: string): SkytoolsError {
  return new SkytoolsError('BAD_EVENT', `cannot apply event ${event.id}: ${why}`, {
    eventId: event.id,
    type: event.type,
  });
}

/** Whether the event is a truncate: `R` of sqltriga, or op TRUNCATE of jsontriga. */
export function isTruncateEvent(type: string | null): boolean {
  if (type === 'R') return true;
  return type?.startsWith('{') === true && /"op"\s*:\s*"TRUNCATE"/.test(type);
}

export interface ParseOptions {
  /** Inserts of urlencoded rows keep their values encoded (`encoded`, no `values`). */
  encodedInserts?: boolean;
}

/** The change an event of a table carries. */
export function parseRowChange(
  event: Event,
  shapes: ShapeCache,
  options: ParseOptions = {},
): RowChange {
  const type = event.type;
  if (type === null || type === '') throw badEvent(event, 'no event type');
  if (type === 'R') return { kind: 'truncate' };
  if (type.startsWith('{')) return parseJsonChange(event, type, shapes);
  const op = type[0] as RowOp;
  if (op !== 'I' && op !== 'U' && op !== 'D') throw badEvent(event, `unknown event type ${type}`);
  const data = event.data;
  if (data === null) throw badEvent(event, 'no event data');
  if (type.length === 1) return { kind: 'sql', op, sql: data };
  if (type[1] !== ':') throw badEvent(event, `unknown event type ${type}`);
  const encoded = options.encodedInserts === true && op === 'I' && lineSafe(data);
  const keyList = type.slice(2);
  if (encoded) {
    const same = shapes.sameShapeLine(keyList, data);
    if (same !== null) {
      return {
        kind: 'row',
        op,
        shape: same.shape,
        values: null,
        encoded: same.line,
        json: null,
        size: data.length,
        key: '',
      };
    }
  }
  return parseUrlencodedChange(op, keyList, data, shapes, event, encoded);
}

function parseUrlencodedChange(
  op: RowOp,
  keyList: string,
  data: string,
  shapes: ShapeCache,
  event: Event,
  keepEncoded = false,
): RowChange {
  const parts = data.split('&');
  const names: string[] = new Array(parts.length);
  const values: (string | null)[] = new Array(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const eq = part.indexOf('=');
    if (eq < 0) {
      names[i] = part;
      values[i] = null;
    } else {
      names[i] = part.slice(0, eq);
      const value = part.slice(eq + 1);
      values[i] = keepEncoded ? value : decodeComponent(value);
    }
  }
  const shape = shapes.urlencodedShape(keyList, names, () => {
    if (data === '') throw badEvent(event, 'empty row');
    return {
      columns: names.map(decodeComponent),
      key: keyList === '' ? [] : keyList.split(','),
    };
  });
  return {
    kind: 'row',
    op,
    shape,
    values: keepEncoded ? null : values,
    encoded: keepEncoded ? joinEncoded(values) : null,
    json: null,
    size: data.length,
    // Only a run of updates looks for repeated keys.
    key: op === 'U' ? rowKey(shape, values) : '',
  };
}

/** A change of a row of text values in `shape`'s column order (made, not parsed). */
export function textRowChange(
  op: RowOp,
  shape: RowShape,
  values: (string | null)[],
): RowChange & { kind: 'row' } {
  let size = 0;
  for (const value of values) size += value === null ? 1 : value.length + 1;
  return {
    kind: 'row',
    op,
    shape,
    values,
    json: null,
    size,
    key: op === 'U' ? rowKey(shape, values) : '',
  };
}

/** Encoded values as one line: tab-separated, `\N` for NULL (no value holds either raw). */
function joinEncoded(values: readonly (string | null)[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? null;
    if (i > 0) line += '\t';
    line += value === null ? '\\N' : value;
  }
  return line;
}

function rowKey(shape: RowShape, values: readonly unknown[]): string {
  const at = shape.keyIndexes;
  if (at.length === 1) return String(values[at[0] as number]);
  let key = '';
  for (const i of at) key += `${String(values[i])}${keySeparator}`;
  return key;
}

const jsonOps: Record<string, RowOp | 'R'> = {
  INSERT: 'I',
  UPDATE: 'U',
  DELETE: 'D',
  TRUNCATE: 'R',
};

interface JsonType {
  op?: unknown;
  pkey?: unknown;
}

function parseJsonChange(event: Event, type: string, shapes: ShapeCache): RowChange {
  let info: JsonType;
  try {
    info = JSON.parse(type) as JsonType;
  } catch {
    throw badEvent(event, `event type is not JSON: ${type}`);
  }
  const op = typeof info.op === 'string' ? jsonOps[info.op] : undefined;
  if (op === undefined) throw badEvent(event, `unknown op in event type ${type}`);
  if (op === 'R') return { kind: 'truncate' };
  const data = event.data;
  let row: unknown;
  try {
    row = data === null ? null : JSON.parse(data);
  } catch {
    throw badEvent(event, 'event data is not JSON');
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    throw badEvent(event, 'event data is not a JSON object');
  }
  const pkey = Array.isArray(info.pkey) ? info.pkey.map(String) : [];
  const columns = Object.keys(row);
  const shape = shapes.shape(`j${pkey.join(',')}{${columns.join('\u0002')}`, true, () => ({
    columns,
    key: pkey,
  }));
  // Key values parsed by JSON.parse serve only to spot a repeated key: two int8 keys that
  // collapse to one double only split a run, which is always safe.
  const key = op === 'U' ? rowKey(shape, Object.values(row)) : '';
  // The row goes to the server as it came: numbers keep their exact text.
  const json = data as string;
  return {
    kind: 'row',
    op,
    shape,
    values: null,
    json,
    size: json.length,
    key,
  };
}
