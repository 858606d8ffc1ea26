/** The switches of Londiste's own commands (add-table, tables, resync, ...), as commander parses them. */
import type { AdminFlags } from '../../cascade/admin/commands.js';
import type { ToolOption } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';

export interface LondisteFlags extends AdminFlags {
  create?: boolean;
  createFull?: boolean;
  expectSync?: boolean;
  skipTruncate?: boolean;
  destTable?: string;
  handler?: string;
  handlerArg: string[];
  triggerFlags?: string;
  triggerArg: string[];
  /** false with `--no-triggers`. */
  triggers?: boolean;
  copyNode?: string;
  findCopyNode?: boolean;
  mergeAll?: boolean;
  maxParallelCopy?: string;
  skipNonExisting?: boolean;
  waitSync?: boolean;
  namesOnly?: boolean;
}

const repeat = (value: string, previous: string[]) => [...previous, value];

/**
 * Besides these, add-table reads `--all` and `--force` (the admin options, shared with
 * takeover) and `--no-merge` (commander's negation of create-leaf's `--merge QUEUE`).
 */
export const londisteOptions: ToolOption[] = [
  {
    flags: '--create',
    description:
      'add-table/add-seq: create a missing table (columns, primary key) or sequence from the provider',
  },
  {
    flags: '--create-full',
    description: 'add-table: create a missing table with its indexes and constraints too',
  },
  { flags: '--expect-sync', description: 'add-table: no copy, the table is already in sync' },
  { flags: '--skip-truncate', description: 'add-table: the copy keeps the rows the table has' },
  {
    flags: '--dest-table <name>',
    description: 'add-table: apply into this local table (one table only)',
  },
  { flags: '--handler <name>', description: 'add-table/change-handler: the table handler' },
  {
    flags: '--handler-arg <key=value>',
    description: 'add-table/change-handler: handler argument (repeatable)',
    parse: repeat,
    defaultValue: [],
  },
  {
    flags: '--trigger-flags <flags>',
    description: 'add-table/change-handler: trigger flags [BAIUDLQJS]',
  },
  {
    flags: '--trigger-arg <arg>',
    description: 'add-table/change-handler: argument for the pgq trigger (repeatable)',
    parse: repeat,
    defaultValue: [],
  },
  { flags: '--no-triggers', description: 'add-table/change-handler: create no triggers' },
  { flags: '--copy-node <node>', description: 'add-table/resync: copy the data from this node' },
  {
    flags: '--find-copy-node',
    description: 'add-table/resync: copy from the first node upstream that has the tables',
  },
  {
    flags: '--merge-all',
    description: 'add-table (merge leaf): take the table from every source queue',
  },
  {
    flags: '--no-merge',
    description: 'add-table (merge leaf): keep the table of this source only',
  },
  {
    flags: '--max-parallel-copy <n>',
    description: 'add-table: copies of this table at once at most',
  },
  {
    flags: '--skip-non-existing',
    description: 'add-table: skip tables the provider lacks, with a warning',
  },
  { flags: '--wait-sync', description: 'add-table: wait until the added tables are in sync' },
  { flags: '--names-only', description: 'tables: names only' },
];

/** `--max-parallel-copy`: a positive integer. */
export function maxParallelCopy(flags: LondisteFlags): number | undefined {
  if (flags.maxParallelCopy === undefined) return undefined;
  const n = Number(flags.maxParallelCopy);
  if (!Number.isInteger(n) || n < 1) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `--max-parallel-copy must be a positive integer, not "${flags.maxParallelCopy}"`,
    );
  }
  return n;
}

/** `--no-merge` (commander stores it as merge = false). */
export function noMerge(flags: LondisteFlags): boolean {
  return (flags as { merge?: unknown }).merge === false;
}
