/**
 * `change-handler TABLE`: give a local table another handler (or other handler arguments,
 * trigger flags and arguments): the attributes are stored and the triggers made again.
 */
import type { CommandContext } from '../../cascade/tool.js';
import { SkytoolsError } from '../../errors.js';
import type { LondisteSettings } from '../settings.js';
import { fqname } from '../table-names.js';
import type { LondisteFlags } from './flags.js';
import { loadConfiguredHandlers } from './handler-modules.js';
import { readTables } from './node-tables.js';
import { checkConflicts, handlerChoice, triggerArgs, withHandler } from './table-options.js';

export const changeHandlerCommand = {
  name: 'change-handler',
  args: ['TABLE'],
  summary: "change a local table's handler and re-create its triggers",
  help: [
    'Usage: %TOOL% CONFIG change-handler TABLE [--handler=NAME] [--handler-arg=KEY=VAL ...]',
    '',
    'Without --handler the table goes back to the default handler (londiste). The other',
    'attributes (skip_truncate, copy_node, max_parallel_copy) are kept.',
    '',
    '  --handler NAME          table handler (see show-handlers)',
    '  --handler-arg KEY=VAL   handler argument (repeatable)',
    '  --trigger-flags FLAGS   trigger flags [BAIUDLQJS]',
    '  --trigger-arg ARG       argument for the pgq trigger (repeatable)',
    '  --no-triggers           no triggers',
    '  --dry-run               print the changes it would make, change nothing',
  ].join('\n'),
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>, args: string[]) {
    const { session, flags } = ctx;
    checkConflicts(flags);
    await loadConfiguredHandlers(ctx.settings);
    const table = fqname(args[0] as string);
    const local = await session.local();
    const info = await session.localInfo();
    const row = (await readTables(local, session.queue)).find(
      (t) => t.tableName === table && t.local,
    );
    if (row === undefined) {
      throw new SkytoolsError('MISSING_OBJECT', `no such local table: ${table}`, { table });
    }
    const handler = await handlerChoice(
      flags,
      table,
      row.destTable ?? table,
      ctx.settings.handlerConfig,
    );
    await session.change(
      info.node_name as string,
      local,
      'select * from londiste.local_change_handler($1, $2, $3, $4)',
      [
        session.queue,
        table,
        handler.addTriggerArgs(triggerArgs(flags)),
        withHandler(row.tableAttrs, handler) || null,
      ],
    );
  },
};
