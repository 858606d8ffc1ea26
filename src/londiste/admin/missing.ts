/**
 * `missing`: on the root the tables and sequences of the database not replicated; elsewhere
 * the set's tables and sequences not replicated here (`londiste.local_show_missing`).
 */
import type { CommandContext } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';
import { displayTable } from './display.js';
import type { LondisteFlags } from './flags.js';
import { byName } from './tables.js';

export const missingCommand = {
  name: 'missing',
  args: [],
  summary: 'tables and sequences not replicated here (r = table, S = sequence)',
  help: 'Usage: %TOOL% CONFIG missing',
  readOnly: true,
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>) {
    const { session } = ctx;
    const { rows } = await (await session.local()).query(
      'select obj_kind, obj_name from londiste.local_show_missing($1)',
      [session.queue],
    );
    const sorted = rows
      .map((r) => [r.obj_kind as string, r.obj_name as string] as const)
      .sort((a, b) => byName(a[0], b[0]) || byName(a[1], b[1]));
    displayTable(session.out, 'Missing objects on node', ['obj_kind', 'obj_name'], sorted);
  },
};
