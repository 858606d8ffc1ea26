/** `tables`: the local tables with their state and attributes, or with --names-only their names. */
import type { CommandContext } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';
import { displayTable } from './display.js';
import type { LondisteFlags } from './flags.js';
import { readTables } from './node-tables.js';
import { attrsRepr } from './table-attrs.js';

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export const tablesCommand = {
  name: 'tables',
  args: [],
  summary: 'the tables replicated here: name, state, attributes',
  help: [
    'Usage: %TOOL% CONFIG tables [--names-only]',
    '',
    '  --names-only          one name per line',
  ].join('\n'),
  readOnly: true,
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>) {
    const { session } = ctx;
    const list = (await readTables(await session.local(), session.queue))
      .filter((t) => t.local)
      .sort((a, b) => byName(a.tableName, b.tableName));
    if (ctx.flags.namesOnly) {
      for (const t of list) session.out.print(t.tableName);
      return;
    }
    displayTable(
      session.out,
      'Tables on node',
      ['table_name', 'merge_state', 'table_attrs'],
      list.map((t) => [t.tableName, t.mergeState, attrsRepr(t.tableAttrs)]),
      list.map((t) => [t.tableName, t.mergeState, t.tableAttrs ?? '']),
    );
  },
};

export { byName };
