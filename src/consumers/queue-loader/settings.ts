/**
 * queue_loader's INI file (upstream queue_loader): the job's section, and one section per
 * table, `[table schema.name]`, whose keys fall back to `[DEFAULT]` (and, for a table without
 * a section of its own, to the job's section): table_mode, split_mode, split_part,
 * split_part_template and row_mode. `fields`, `bulk_mode` and `rename_tables` are accepted and
 * not read, as upstream.
 */
import { Config, readIniFile } from '../../config/index.js';
import { parseConnString } from '../../db/connstring.js';
import { type JobSettings, jobKeys, loadJobSettings } from '../job-settings.js';

export type TableMode = 'ignore' | 'direct' | 'split';
export type RowMode = 'plain' | 'keep_latest' | 'keep_all' | 'bulk';
export type SplitMode =
  | { kind: 'by-batch-time' }
  | { kind: 'by-event-time' }
  | { kind: 'by-date-field'; field: string };

export interface TableSettings {
  readonly mode: TableMode;
  readonly rowMode: RowMode;
  readonly split: SplitMode;
  /** The partition's name (`%(table_name)s`, `%(year)s`, `%(month)s`, `%(day)s`, `%(hour)s`). */
  readonly splitPart: string;
  /** DDL making a partition (`%(part)s`, `%(parent)s`, `%(pkey)s`, already quoted). */
  readonly splitPartTemplate: string;
}

export interface QueueLoaderSettings extends JobSettings {
  /** The database the tables are in (upstream's `db`); pgq_ext keeps the position there. */
  readonly dstDb: string;
  /** Settings per table (`schema.name`), and for tables named nowhere. */
  readonly tables: ReadonlyMap<string, TableSettings>;
  readonly defaultTable: TableSettings;
}

export const tableKeys = [
  'table_mode',
  'split_mode',
  'split_part',
  'split_part_template',
  'row_mode',
  'fields',
  'bulk_mode',
];

export const queueLoaderKeys = [...jobKeys, 'dst_db', 'rename_tables', ...tableKeys];

const defaultSplitPart = '%(table_name)s_%(year)s_%(month)s_%(day)s';
const defaultPartTemplate =
  'create table %(part)s (like %(parent)s including defaults including constraints including indexes)';

// The macros of split_part and split_part_template survive the INI interpolation as
// themselves, whether the file writes %(part)s or %%(part)s.
const macroDefaults = Object.fromEntries(
  ['table_name', 'year', 'month', 'day', 'hour', 'part', 'parent', 'pkey'].map((name) => [
    name,
    `%%(${name})s`,
  ]),
);

/** `public` when the name has no schema, as Londiste names tables. */
export function fqTableName(name: string): string {
  return name.includes('.') ? name : `public.${name}`;
}

function loadTable(cf: Config): TableSettings {
  const mode = cf.get('table_mode', 'ignore').trim();
  if (mode !== 'ignore' && mode !== 'direct' && mode !== 'split') {
    throw cf.error('table_mode', `table_mode must be ignore, direct or split, not "${mode}"`);
  }
  const rowMode = cf.get('row_mode', 'plain').trim();
  if (!['plain', 'keep_latest', 'keep_all', 'bulk'].includes(rowMode)) {
    throw cf.error(
      'row_mode',
      `row_mode must be plain, keep_latest, keep_all or bulk, not "${rowMode}"`,
    );
  }
  const splitText = cf.get('split_mode', 'by-batch-time').trim();
  let split: SplitMode;
  if (splitText === 'by-batch-time' || splitText === 'by-event-time') {
    split = { kind: splitText };
  } else if (splitText.startsWith('by-date-field:') && splitText.length > 14) {
    split = { kind: 'by-date-field', field: splitText.slice(14).trim() };
  } else {
    throw cf.error(
      'split_mode',
      `split_mode must be by-batch-time, by-event-time or by-date-field:FIELD, not "${splitText}"`,
    );
  }
  const splitPart = cf.get('split_part', defaultSplitPart).trim();
  if (splitPart === '') throw cf.error('split_part', 'split_part is empty');
  const splitPartTemplate = cf.get('split_part_template', defaultPartTemplate).trim();
  return { mode, rowMode: rowMode as RowMode, split, splitPart, splitPartTemplate };
}

export function loadQueueLoaderSettings(cf: Config): QueueLoaderSettings {
  const job = loadJobSettings(cf);
  // Upstream's key for the tables' database is `db`; the queue is read from src_db.
  const dstKey = cf.has('dst_db') ? 'dst_db' : cf.has('src_db') && cf.has('db') ? 'db' : null;
  const dstDb = dstKey === null ? job.srcDb : cf.get(dstKey);
  for (const [key, value] of [
    ['src_db', job.srcDb],
    [dstKey ?? 'db', dstDb],
  ] as const) {
    try {
      parseConnString(value);
    } catch (error) {
      throw cf.error(key, (error as Error).message);
    }
  }
  const tables = new Map<string, TableSettings>();
  if (cf.file !== '<string>') {
    for (const section of readIniFile(cf.file).keys()) {
      const match = /^table\s+(.+)$/.exec(section);
      if (!match) continue;
      const table = fqTableName((match[1] as string).trim());
      tables.set(table, loadTable(Config.load(cf.file, [section], { defaults: macroDefaults })));
    }
  }
  const main =
    cf.file === '<string>' ? cf : Config.load(cf.file, [cf.section], { defaults: macroDefaults });
  return { ...job, dstDb, tables, defaultTable: loadTable(main) };
}
