/**
 * The arguments of the dispatch family (spec §6.5), read and checked as upstream's
 * Skytools 3.2 dispatcher reads them (each list's first value is the default), with the
 * presets of the generated names (`hourly_event`, `bulk_daily_field`, `direct`, ...) under
 * the arguments given: an argument the operator writes wins over its handler name's preset.
 * Anything it cannot use is refused with upstream's `Invalid handler argument` text.
 */
import type { BulkMethod } from '../../apply/bulk-loader.js';
import type { HandlerArgument, HandlerTable } from '../../handler.js';
import { badArgument, choiceArg, flagArg } from '../args.js';
import { checkEncoding, type DestEncoding } from './encoding.js';
import { templateMacros } from './template.js';

export const tableModes = ['part', 'direct', 'ignore'] as const;
export const partModes = ['batch_time', 'event_time', 'date_field', 'current_time'] as const;
export const periods = ['day', 'month', 'year', 'hour'] as const;
export const rowModes = ['plain', 'keep_all', 'keep_latest'] as const;
export const loadModes = ['direct', 'bulk'] as const;
export const methods = ['0', '1', '2', '3'] as const;

export type Period = (typeof periods)[number];
export type PartMode = (typeof partModes)[number];
export type RowMode = (typeof rowModes)[number];

/** Macros of `part_name`. */
export const partNameMacros = ['parent', 'year', 'month', 'day', 'hour'] as const;
/** Macros of `part_template`, `pre_part` and `post_part`. */
export const partSqlMacros = [
  'dest',
  'part',
  'parent',
  'pkeys',
  'schema_table',
  'part_field',
  'part_time',
  'period',
] as const;

export const defaultPartFunc = 'londiste.create_partition';
/** Where older installs have it: used when the default function is missing. */
export const oldPartFunc = 'public.create_partition';

export interface PartConfig {
  mode: PartMode;
  field: string | null;
  period: Period;
  /** The name template: `part_name`, or `%(parent)s_%(year)s_...` down to the period. */
  name: string;
  template: string | null;
  prePart: string | null;
  postPart: string | null;
  func: string;
  retention: string | null;
  ignoreOldEvents: boolean;
}

export interface DispatchConfig {
  tableMode: (typeof tableModes)[number];
  /** Set when tableMode is `part`. */
  part: PartConfig | null;
  rowMode: RowMode;
  eventTypes: ReadonlySet<'I' | 'U' | 'D'>;
  loadMode: (typeof loadModes)[number];
  method: BulkMethod;
  /** Source column -> destination column; null = every column under its own name. */
  fieldMap: ReadonlyMap<string, string> | null;
  skipFields: ReadonlySet<string>;
  /** Where rows go (`table`, else the table's destination), stored form. */
  dest: string;
  ignoreTruncate: boolean;
  encoding: DestEncoding | null;
  analyze: boolean;
}

export const dispatchArgs: readonly HandlerArgument[] = [
  { name: 'table_mode', description: 'part, direct or ignore', default: 'part' },
  {
    name: 'part_mode',
    description: 'batch_time, event_time, date_field or current_time',
    default: 'batch_time',
  },
  { name: 'part_field', description: 'the date column of part_mode=date_field' },
  { name: 'period', description: 'hour, day, month or year', default: 'day' },
  { name: 'part_name', description: 'name template, e.g. %(parent)s_%(year)s_%(month)s' },
  { name: 'part_template', description: 'SQL that makes a partition (instead of part_func)' },
  { name: 'part_func', description: 'function that makes a partition', default: defaultPartFunc },
  { name: 'pre_part', description: 'SQL run before a partition is made' },
  { name: 'post_part', description: 'SQL run after a partition is made' },
  { name: 'retention_period', description: 'drop partitions older than this interval' },
  {
    name: 'ignore_old_events',
    description: 'drop events of partitions past retention: 1 or 0',
    default: '0',
  },
  { name: 'row_mode', description: 'plain, keep_latest or keep_all', default: 'plain' },
  { name: 'event_types', description: 'the kinds applied, e.g. I,U (default all)', default: '*' },
  { name: 'load_mode', description: 'direct or bulk', default: 'direct' },
  { name: 'method', description: 'bulk method: 0, 1, 2 or 3 (inserts only)', default: '0' },
  {
    name: 'fields',
    description: 'columns taken and renamed: a,b:new_b (default all)',
    default: '*',
  },
  { name: 'skip_fields', description: 'columns left out: a,b' },
  { name: 'table', description: 'the destination table (default the table itself)' },
  { name: 'ignore_truncate', description: 'ignore truncate events: 1 or 0', default: '0' },
  { name: 'encoding', description: 'destination encoding: characters it lacks are replaced' },
  { name: 'analyze', description: 'ANALYZE the bulk temp tables: 1 or 0', default: '0' },
];

type Preset = Readonly<Record<string, string>>;

/** The family: each handler name with the arguments its name presets. */
export function dispatchPresets(): Map<string, Preset> {
  const out = new Map<string, Preset>([
    ['dispatch', {}],
    ['direct', { table_mode: 'direct', load_mode: 'direct' }],
    ['bulk_direct', { table_mode: 'direct', load_mode: 'bulk' }],
  ]);
  const byPeriod = { hourly: 'hour', daily: 'day', monthly: 'month', yearly: 'year' };
  const byMode = {
    event: 'event_time',
    batch: 'batch_time',
    field: 'date_field',
    time: 'current_time',
  };
  for (const load of ['', 'bulk_']) {
    for (const [periodName, period] of Object.entries(byPeriod)) {
      for (const [modeName, mode] of Object.entries(byMode)) {
        out.set(`${load}${periodName}_${modeName}`, {
          table_mode: 'part',
          row_mode: 'keep_latest',
          period,
          part_mode: mode,
          load_mode: load === '' ? 'direct' : 'bulk',
        });
      }
    }
  }
  return out;
}

const intervalUnit =
  '(microseconds?|milliseconds?|seconds?|secs?|minutes?|mins?|hours?|days?|weeks?|months?|mons?|years?|decades?|centuries|century|millennium|millennia)';
const intervalText = new RegExp(`^\\s*(?:[-+]?\\d+(?:\\.\\d+)?\\s*${intervalUnit}\\s*)+$`, 'i');

function optional(table: HandlerTable, name: string): string | null {
  const value = table.args[name];
  return value === undefined || value.trim() === '' ? null : value;
}

function checkMacros(
  handler: string,
  table: HandlerTable,
  name: string,
  value: string | null,
  known: readonly string[],
): void {
  if (value === null) return;
  const unknown = templateMacros(value).filter((m) => !known.includes(m));
  if (unknown.length > 0) {
    throw badArgument(
      handler,
      table,
      name,
      value,
      `unknown macro %(${unknown[0]})s; known: ${known.join(', ')}`,
    );
  }
}

function nameList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

/** The handler's configuration; `handler` is its name, `table` carries the merged arguments. */
export function readDispatchConfig(handler: string, table: HandlerTable): DispatchConfig {
  const tableMode = choiceArg(handler, table, 'table_mode', tableModes, 'part');
  let part: PartConfig | null = null;
  if (tableMode === 'part') {
    const mode = choiceArg(handler, table, 'part_mode', partModes, 'batch_time');
    const field = optional(table, 'part_field');
    if (mode === 'date_field' && field === null) {
      throw badArgument(
        handler,
        table,
        'part_field',
        table.args.part_field,
        'part_mode date_field requires part_field',
      );
    }
    const period = choiceArg(handler, table, 'period', periods, 'day');
    const units = ['year', 'month', 'day', 'hour'];
    const name =
      optional(table, 'part_name') ??
      ['parent', ...units.slice(0, units.indexOf(period) + 1)].map((p) => `%(${p})s`).join('_');
    checkMacros(handler, table, 'part_name', name, partNameMacros);
    const template = optional(table, 'part_template');
    const prePart = optional(table, 'pre_part');
    const postPart = optional(table, 'post_part');
    checkMacros(handler, table, 'part_template', template, partSqlMacros);
    checkMacros(handler, table, 'pre_part', prePart, partSqlMacros);
    checkMacros(handler, table, 'post_part', postPart, partSqlMacros);
    const retention = optional(table, 'retention_period');
    if (retention !== null && !intervalText.test(retention)) {
      throw badArgument(
        handler,
        table,
        'retention_period',
        retention,
        "an interval such as '3 months'",
      );
    }
    part = {
      mode,
      field: mode === 'date_field' ? field : null,
      period,
      name,
      template,
      prePart,
      postPart,
      func: optional(table, 'part_func') ?? defaultPartFunc,
      retention,
      ignoreOldEvents: flagArg(handler, table, 'ignore_old_events'),
    };
  }
  const typesArg = optional(table, 'event_types') ?? '*';
  const eventTypes = new Set<'I' | 'U' | 'D'>();
  for (const type of typesArg === '*' ? ['I', 'U', 'D'] : nameList(typesArg)) {
    const upper = type.toUpperCase();
    if (upper !== 'I' && upper !== 'U' && upper !== 'D') {
      throw badArgument(
        handler,
        table,
        'event_types',
        typesArg,
        `unsupported operation ${type}; I, U, D`,
      );
    }
    eventTypes.add(upper);
  }
  const fields = optional(table, 'fields') ?? '*';
  let fieldMap: Map<string, string> | null = null;
  if (fields.trim() !== '*') {
    fieldMap = new Map();
    for (const item of fields.split(',')) {
      const [from, to, extra] = item.split(':').map((s) => s.trim());
      if (from === undefined || from === '' || to === '' || extra !== undefined) {
        throw badArgument(handler, table, 'fields', fields, 'a list of column or column:new_name');
      }
      fieldMap.set(from, to ?? from);
    }
  }
  const dest = optional(table, 'table') ?? table.destTable;
  const encodingArg = optional(table, 'encoding');
  const encoding = encodingArg === null ? null : checkEncoding(encodingArg);
  if (encodingArg !== null && encoding === null) {
    throw badArgument(handler, table, 'encoding', encodingArg, 'utf8, latin1 or sql_ascii');
  }
  return {
    tableMode,
    part,
    rowMode: choiceArg(handler, table, 'row_mode', rowModes, 'plain'),
    eventTypes,
    loadMode: choiceArg(handler, table, 'load_mode', loadModes, 'direct'),
    method: choiceArg(handler, table, 'method', methods, '0'),
    fieldMap,
    skipFields: new Set(nameList(table.args.skip_fields)),
    dest: dest.includes('.') ? dest : `public.${dest}`,
    ignoreTruncate: flagArg(handler, table, 'ignore_truncate'),
    encoding,
    analyze: flagArg(handler, table, 'analyze'),
  };
}
