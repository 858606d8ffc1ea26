/**
 * `resync TABLE...`: copy local tables again: their state goes back to NULL and the worker
 * starts a full copy, from the provider or the node `--copy-node` / `--find-copy-node` names.
 */
import type { CommandContext } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';
import type { LondisteSettings } from '../settings.js';
import { findCopyNode, namedCopyNode } from './copy-source.js';
import type { LondisteFlags } from './flags.js';
import { loadConfiguredHandlers } from './handler-modules.js';
import { needNames } from './need-names.js';
import { readTables } from './node-tables.js';
import { resolveNames } from './object-names.js';
import { checkConflicts, withCopyNode } from './table-options.js';

export const resyncCommand = {
  name: 'resync',
  args: ['TABLE...'],
  summary: 'copy local tables again (state back to NULL)',
  help: [
    'Usage: %TOOL% CONFIG resync TABLE... [--copy-node=NODE | --find-copy-node]',
    '',
    '  --copy-node NODE      copy from this node instead of the provider',
    '  --find-copy-node      copy from the first node upstream that holds the tables',
    '  --dry-run             print the changes it would make, change nothing',
  ].join('\n'),
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>, words: string[]) {
    const { session, flags } = ctx;
    needNames('resync', 'table', words);
    checkConflicts(flags);
    await loadConfiguredHandlers(ctx.settings);
    const local = await session.local();
    const info = await session.localInfo();
    const nodeName = info.node_name as string;
    if (info.node_type === 'root') {
      throw new SkytoolsError(
        'BAD_OPTIONS',
        'resync is for branches and leaves: the root has no source to copy from',
      );
    }
    const list = await readTables(local, session.queue);
    const tables = resolveNames(session.out, words, {
      kind: 'table',
      available: list.filter((t) => t.local).map((t) => t.tableName),
      done: new Set(),
    });
    let copyNode: string | undefined;
    if (flags.copyNode !== undefined)
      copyNode = (await namedCopyNode(session, info, flags.copyNode)).name;
    else if (flags.findCopyNode) copyNode = (await findCopyNode(session, info, tables)).name;
    for (const table of tables) {
      if (copyNode !== undefined) {
        const row = list.find((t) => t.tableName === table);
        await session.change(
          nodeName,
          local,
          'select * from londiste.local_set_table_attrs($1, $2, $3)',
          [session.queue, table, withCopyNode(row?.tableAttrs ?? null, copyNode)],
        );
      }
      await session.change(
        nodeName,
        local,
        'select * from londiste.local_set_table_state($1, $2, null, null)',
        [session.queue, table],
      );
    }
  },
};
