/**
 * queue_loader's split mode: the partition a row goes to, named by `split_part` from the
 * table's name and the date of the batch, of the event or of one of the row's fields, and
 * created with `split_part_template` in the target transaction when it is not there yet.
 * A time with a zone (batch and event times, timestamptz fields) is split by its UTC date; a
 * field without a zone (date, timestamp) by the date it says.
 */
import type pg from 'pg';
import { quoteIdent, quoteQualified } from '../../db/quote.js';
import { SkytoolsError } from '../../errors.js';

export interface DateParts {
  year: string;
  month: string;
  day: string;
  hour: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function partsOfDate(date: Date): DateParts {
  return {
    year: String(date.getUTCFullYear()),
    month: pad(date.getUTCMonth() + 1),
    day: pad(date.getUTCDate()),
    hour: pad(date.getUTCHours()),
  };
}

/** Date parts of a timestamp text as PostgreSQL prints it (ISO DateStyle). */
export function partsOfText(text: string): DateParts | null {
  const m =
    /^(\d{4,})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}){0,2})?$/.exec(
      text.trim(),
    );
  if (!m) return null;
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone] = m;
  if (zone === undefined)
    return { year: year as string, month: month as string, day: day as string, hour };
  const offset = zone === 'Z' ? 'Z' : normalizeOffset(zone);
  const date = new Date(
    `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction.slice(0, 4)}${offset}`,
  );
  return Number.isNaN(date.getTime()) ? null : partsOfDate(date);
}

function normalizeOffset(zone: string): string {
  const sign = zone[0];
  const digits = zone.slice(1).replace(/:/g, '');
  return `${sign}${digits.slice(0, 2)}:${digits.slice(2, 4) || '00'}`;
}

/** `split_part` filled in: the partition's table name (without schema). */
export function partitionName(template: string, tableName: string, parts: DateParts): string {
  return template.replace(/%\((\w+)\)s/g, (whole, name: string) => {
    if (name === 'table_name') return tableName;
    if (name in parts) return parts[name as keyof DateParts];
    throw new SkytoolsError(
      'BAD_CONFIG',
      `split_part: unknown macro ${whole} (known: table_name, year, month, day, hour)`,
      { key: 'split_part' },
    );
  });
}

/** Makes partitions that do not exist yet; remembers those it has seen in this session. */
export class Partitions {
  readonly #known = new Set<string>();

  /** Forget what was seen: after a rollback, a partition made in it is gone again. */
  forget(): void {
    this.#known.clear();
  }

  async ensure(
    db: pg.ClientBase,
    schema: string,
    parent: string,
    part: string,
    template: string,
  ): Promise<void> {
    const fq = quoteQualified(schema, part);
    if (this.#known.has(fq)) return;
    const { rows } = await db.query<{ there: boolean }>(
      'select to_regclass($1) is not null as there',
      [fq],
    );
    if (rows[0]?.there !== true) {
      const pkey = await primaryKey(db, schema, parent);
      const ddl = template.replace(/%\((\w+)\)s/g, (whole, name: string) => {
        if (name === 'part') return fq;
        if (name === 'parent') return quoteQualified(schema, parent);
        if (name === 'pkey') return pkey.map(quoteIdent).join(', ');
        throw new SkytoolsError(
          'BAD_CONFIG',
          `split_part_template: unknown macro ${whole} (known: part, parent, pkey)`,
          { key: 'split_part_template' },
        );
      });
      await db.query(ddl);
    }
    this.#known.add(fq);
  }
}

async function primaryKey(db: pg.ClientBase, schema: string, table: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `select a.attname as name
       from pg_index i
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any (i.indkey)
      where i.indrelid = to_regclass($1) and i.indisprimary
      order by array_position(i.indkey::int2[], a.attnum)`,
    [quoteQualified(schema, table)],
  );
  return rows.map((row) => row.name);
}
