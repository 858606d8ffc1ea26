/**
 * Londiste's watching commands: `status` (setadm's tree with each node's tables and copy
 * progress; it takes the place of the cascade's status in the londiste tool), `wait-sync`
 * (compare and repair: compare-commands.ts). wait-root and wait-provider are the cascade's own (nothing to add).
 */
import type { AdminFlags } from '../../cascade/admin/commands.js';
import type { ToolCommand, ToolOption } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';
import type { LondisteSettings } from '../settings.js';
import { londisteStatus } from './status.js';
import { waitSync } from './wait-sync.js';

type Command = ToolCommand<LondisteSettings, AdminFlags>;

function timeoutOf(flags: AdminFlags): number | undefined {
  if (flags.timeout === undefined) return undefined;
  const value = Number(flags.timeout);
  if (flags.timeout.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new SkytoolsError(
      'BAD_OPTION',
      `--timeout must be a number of seconds, not "${flags.timeout}"`,
    );
  }
  return value;
}

export const statusCommands: Command[] = [
  {
    name: 'status',
    args: [],
    summary: "the cascade as a tree: lag, tick, errors, and each node's tables and copies",
    help: [
      'Usage: %TOOL% CONFIG status [--compact]',
      '',
      'Reads every member in parallel. Per node: "Tables: ok/half/ignored" (local tables in',
      'sync, local tables not yet in sync, tables of the set not added here), the lag line,',
      'then each local table not in sync with its state (new, in-copy, catching-up,',
      'wanna-sync:TICK, do-sync:TICK) and, for a COPY running into the node, its progress',
      "(rows and bytes against the copy source's size, rate, ETA). A member that does not",
      'answer is shown as unreachable, one tagged dead (or given with --dead) is not contacted.',
      '',
      '  --compact             one line per node (no per-table lines)',
    ].join('\n'),
    readOnly: true,
    async run(ctx) {
      await londisteStatus(ctx.session, { compact: ctx.flags.compact, color: ctx.color });
    },
  },
  {
    name: 'wait-sync',
    args: [],
    summary: 'wait until every local table is in sync (ok)',
    help: [
      'Usage: %TOOL% CONFIG wait-sync [--timeout=SECONDS]',
      '',
      'Polls the local table states, logging every 5 s which tables are not in sync yet',
      '(with the COPY progress of a table being copied), until all are ok.',
      '',
      '  --timeout SECONDS     give up after this long, exit 1 (default: no limit)',
    ].join('\n'),
    readOnly: true,
    async run(ctx) {
      await waitSync(ctx.session, { timeoutSeconds: timeoutOf(ctx.flags) });
    },
  },
];

export const statusOptions: ToolOption[] = [];
