/**
 * `remove-table TABLE...`: stop replicating tables here (their triggers go, dropped DDL is
 * restored); on the root they also leave the set and every node is told.
 */
import type { CommandContext } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';
import type { LondisteFlags } from './flags.js';
import { needNames } from './need-names.js';
import { readTables } from './node-tables.js';
import { resolveNames } from './object-names.js';

export const removeTableCommand = {
  name: 'remove-table',
  args: ['TABLE...'],
  summary: 'stop replicating tables here (on the root: remove them from the set)',
  help: [
    'Usage: %TOOL% CONFIG remove-table TABLE... [--dry-run]',
    '',
    "Drops the tables' Londiste triggers and forgets their state; on the root the tables leave",
    'the set (event londiste.remove-table). Globs match the local tables.',
    '',
    '  --dry-run             print the changes it would make, change nothing',
  ].join('\n'),
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>, words: string[]) {
    const { session } = ctx;
    needNames('remove-table', 'table', words);
    const local = await session.local();
    const info = await session.localInfo();
    const list = await readTables(local, session.queue);
    const tables = resolveNames(session.out, words, {
      kind: 'table',
      available: list.filter((t) => t.local).map((t) => t.tableName),
      done: new Set(list.filter((t) => !t.local).map((t) => t.tableName)),
    });
    for (const table of tables) {
      await session.change(
        info.node_name as string,
        local,
        'select * from londiste.local_remove_table($1, $2)',
        [session.queue, table],
      );
    }
  },
};
