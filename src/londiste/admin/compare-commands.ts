/**
 * `compare` and `repair` (spec §6.10): upstream's commands, options and output lines, with
 * ours marked in the help (--checksum, --throttle, --resume, --state-file, --range-rows).
 */
import type { AdminFlags } from '../../cascade/admin/commands.js';
import type { CommandContext, ToolCommand, ToolOption } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';
import type { LondisteSettings } from '../settings.js';
import type { CompareOptions } from './compare.js';
import { loadConfiguredHandlers } from './handler-modules.js';

export interface CompareFlags extends AdminFlags {
  countOnly?: boolean;
  checksum?: string;
  throttle?: string;
  resume?: boolean;
  stateFile?: string;
  rangeRows?: string;
  apply?: boolean;
  repairWhere?: string;
  sortBufsize?: string;
}

type Command = ToolCommand<LondisteSettings, CompareFlags>;

function number(flag: string, text: string | undefined, min: number, integer: boolean) {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `--${flag} must be a number ${min > 0 ? `of at least ${min}` : 'of 0 or more'}, not "${text}"`,
    );
  }
  if (integer && !Number.isInteger(value)) {
    throw new SkytoolsError('BAD_OPTION', `--${flag} must be a whole number, not "${text}"`);
  }
  return value;
}

function options(
  ctx: CommandContext<LondisteSettings, CompareFlags>,
  tables: string[],
): CompareOptions {
  const { flags, settings } = ctx;
  const checksum = flags.checksum ?? 'sum';
  if (checksum !== 'sum' && checksum !== 'md5') {
    throw new SkytoolsError('BAD_OPTION', `--checksum must be sum or md5, not "${checksum}"`);
  }
  const throttle = number('throttle', flags.throttle, 0, false);
  return {
    tables,
    countOnly: flags.countOnly === true,
    force: flags.force === true,
    lockTimeout: settings.lockTimeout,
    compareSql: settings.compareSql,
    compareFmt: settings.compareFmt,
    extraConnstr: settings.extraConnstr,
    handlerConfig: settings.handlerConfig,
    checksum,
    throttleMs: throttle === undefined ? 0 : throttle * 1000,
    rangeRows: number('range-rows', flags.rangeRows, 1, true),
    resume: flags.resume === true,
    stateFile: flags.stateFile,
  };
}

const common = [
  '  --checksum sum|md5    sum (default): count and sum of a 64-bit hash of each row; md5: an',
  '                        exact md5 of the rows in key order, slower (ours)',
  '  --throttle SECONDS    pause after each key range (ours)',
  '  --range-rows N        rows per key range, about (default 1000000; ours)',
  '  --resume              keep a state file; go on from an interrupted run (ours)',
  '  --state-file FILE     where --resume keeps them (default compare.QUEUE.state; ours)',
  '  --force               go on when the local worker does not catch up within lock_timeout',
];

const point = [
  'Per local table in sync (all, or those named; globs allowed), on this node and on the node',
  'the table is copied from (copy_node, else the provider), at one point of the replication',
  "stream, without locking the table: the source's snapshot, and this node's snapshot at a",
  'tick that covers it (rows changed between the two are compared again at a later point).',
  'The rows are compared by primary-key ranges, each one aggregate on the server; ranges that',
  'differ are split until the rows that differ are found.',
];

export const compareCommands: Command[] = [
  {
    name: 'compare',
    args: ['TABLE...'],
    summary:
      'compare row count and hash sum of tables with the provider; exit status = tables that differ',
    help: [
      'Usage: %TOOL% CONFIG compare [TABLE...] [--count-only] [--checksum=md5] [--force]',
      '',
      ...point,
      'Prints "Counting T", then "srcdb: N rows, checksum=X" and "dstdb: ..." (INI compare_fmt',
      'overrides the line, compare_sql the query: then one query per side, no ranges).',
      '"Results do not match!" when they differ. Exit status: the number of tables that differ.',
      '',
      '  --count-only          compare row counts only (one query per side)',
      ...common,
    ].join('\n'),
    readOnly: true,
    async run(ctx, args) {
      await loadConfiguredHandlers(ctx.settings);
      // compare's code (and the handlers') loads only for these commands.
      const { compare } = await import('./compare.js');
      return compare(ctx.session, options(ctx, args));
    },
  },
  {
    name: 'repair',
    args: ['TABLE...'],
    summary: 'find the rows that differ from the provider and write (or --apply) fix.<table>.sql',
    help: [
      'Usage: %TOOL% CONFIG repair [TABLE...] [--apply] [--repair-where=COND] [--force]',
      '',
      ...point,
      'For each table that differs: "missed: N inserts, N updates, N deletes", and the',
      'statements that make this node equal in fix.<table>.sql (current directory). --apply',
      'runs them here in one transaction as replica (the triggers stay quiet).',
      'Exit status: the number of tables that differ.',
      '',
      '  --apply               apply the statements',
      '  --repair-where COND   only rows matching this SQL condition, on both sides',
      '  --sort-bufsize SIZE   accepted for compatibility (nothing is sorted in files here)',
      ...common,
    ].join('\n'),
    async run(ctx, args) {
      await loadConfiguredHandlers(ctx.settings);
      if (ctx.flags.countOnly) {
        throw new SkytoolsError('BAD_OPTION', '--count-only is for compare, not repair');
      }
      const base = options(ctx, args);
      // compare's code (and the handlers') loads only for these commands.
      const { compare } = await import('./compare.js');
      return compare(ctx.session, {
        ...base,
        compareSql: undefined,
        repair: {
          apply: ctx.flags.apply === true,
          dir: process.cwd(),
          where: ctx.flags.repairWhere,
        },
      });
    },
  },
];

export const compareOptions: ToolOption[] = [
  { flags: '--count-only', description: 'compare: row counts only' },
  { flags: '--checksum <sum|md5>', description: 'compare/repair: row checksum (ours)' },
  { flags: '--throttle <seconds>', description: 'compare/repair: pause after each range (ours)' },
  { flags: '--range-rows <n>', description: 'compare/repair: rows per key range (ours)' },
  { flags: '--resume', description: 'compare/repair: skip ranges an interrupted run did (ours)' },
  { flags: '--state-file <file>', description: 'compare/repair: the --resume state (ours)' },
  { flags: '--apply', description: 'repair: apply the fix statements' },
  { flags: '--repair-where <cond>', description: 'repair: only rows matching the condition' },
  { flags: '--sort-bufsize <size>', description: 'repair: accepted, no effect' },
];
