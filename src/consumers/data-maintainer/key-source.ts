/**
 * The key list of a data_maintainer run, in chunks of `fetch_count`: rows of `sql_get_pk_list`
 * read through a server-side cursor on `dbread` (WITH HOLD by default, so no transaction stays
 * open there while the keys are processed), or the records of a CSV file. With a position to
 * resume from, a query's rows come ordered by all their columns and start after the last key
 * done; a CSV file's start after the records done.
 */
import type pg from 'pg';
import { quoteIdent } from '../../db/quote.js';
import { rawTypes } from '../../pgq/event.js';
import { bindDstQuery } from '../dst-query.js';
import type { EventParams } from '../payload.js';
import { readCsvRecords } from './csv.js';
import type { Position } from './position-file.js';
import type { KeySource } from './settings.js';

export interface KeyRow {
  /** Column name → text value: the parameters of sql_modify. */
  params: EventParams;
  /** The row's values in column order (query sources: the resume key). */
  key: (string | null)[] | null;
}

export interface KeyChunks {
  /** The next chunk of at most `size` rows; empty at the end. */
  next(size: number): Promise<KeyRow[]>;
  close(): Promise<void>;
}

const cursorName = 'data_maintainer_keys';

/**
 * Open the key list. `resume` orders a query's rows so a position can say where it got to;
 * `from` is the position to start after. `connect` gives the dbread session.
 */
export async function openKeys(
  source: KeySource,
  xparams: EventParams,
  resume: boolean,
  from: Position | null,
  connect: () => Promise<pg.Client>,
): Promise<KeyChunks> {
  if (source.kind === 'csv') return csvKeys(source.file, source, from?.rows ?? 0);
  const db = await connect();
  let text = source.sql.text.replace(/[\s;]+$/, '');
  const values: unknown[] = bindDstQuery(source.sql, xparams, '', {
    key: 'sql_get_pk_list',
    what: 'the sql_before_run row',
  });
  if (resume) {
    const probe = await db.query({ text: `select * from (${text}) as pk_list limit 0`, values });
    const columns = probe.fields.map((f) => `pk_list.${quoteIdent(f.name)}`);
    let where = '';
    if (from?.key) {
      const params = from.key.map((value) => `$${values.push(value)}`);
      where = ` where (${columns.join(', ')}) > (${params.join(', ')})`;
    }
    const order = columns.map((_c, i) => i + 1).join(', ');
    text = `select * from (${text}) as pk_list${where} order by ${order}`;
  }
  const hold = source.withHold;
  await db.query('begin');
  try {
    await db.query({
      text: `declare ${cursorName} no scroll cursor${hold ? ' with hold' : ''} for ${text}`,
      values,
    });
    // WITH HOLD: the commit materializes the rows and ends the transaction on dbread.
    if (hold) await db.query('commit');
  } catch (error) {
    await db.query('rollback').catch(() => {});
    throw error;
  }
  let done = false;
  return {
    async next(size) {
      if (done) return [];
      const result = await db.query({
        text: `fetch forward ${size} from ${cursorName}`,
        rowMode: 'array',
        types: rawTypes,
      });
      const names = result.fields.map((f) => f.name);
      const rows = (result.rows as (string | null)[][]).map((values) => ({
        params: new Map(names.map((name, i) => [name, values[i] ?? null])),
        key: values,
      }));
      if (rows.length < size) done = true;
      return rows;
    },
    async close() {
      await db.query(`close ${cursorName}`).catch(() => {});
      if (!hold) await db.query('commit').catch(() => {});
    },
  };
}

function csvKeys(
  file: string,
  options: { delimiter: string; quotechar: string },
  skip: number,
): KeyChunks {
  const records = readCsvRecords(file, options);
  let skipped = 0;
  return {
    async next(size) {
      const rows: KeyRow[] = [];
      while (rows.length < size) {
        const { value, done } = await records.next();
        if (done) break;
        if (skipped < skip) {
          skipped++;
          continue;
        }
        rows.push({ params: value, key: null });
      }
      return rows;
    },
    async close() {
      await records.return();
    },
  };
}
