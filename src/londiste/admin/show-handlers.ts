/**
 * `show-handlers [NAME...]`: the handlers this tool knows (built-in ones and those of
 * `handler_modules`), one line each with its summary, or the full help of the named ones.
 */
import type { CommandContext } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';
import type { LondisteFlags } from './flags.js';
import { loadConfiguredHandlers } from './handler-modules.js';

export const showHandlersCommand = {
  name: 'show-handlers',
  args: ['NAME...'],
  summary: 'the table handlers: one line each, or the full help of the named ones',
  help: 'Usage: %TOOL% CONFIG show-handlers [NAME...]',
  readOnly: true,
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>, names: string[]) {
    const { out } = ctx.session;
    await loadConfiguredHandlers(ctx.settings);
    const { findHandler, listHandlers } = await import('../handlers/registry.js');
    if (names.length === 0) {
      for (const handler of listHandlers()) {
        out.print(`${handler.name} - ${handler.description.split('\n')[0]}`);
      }
      return;
    }
    const factories = names.map(findHandler);
    for (const handler of factories) {
      out.print(`${handler.name} - ${handler.description}`);
      if (handler.args.length > 0) {
        out.print('');
        out.print('Arguments (--handler-arg=NAME=VALUE):');
        for (const arg of handler.args) {
          const def = arg.default === undefined ? '' : ` (default: ${arg.default})`;
          out.print(`  ${arg.name}: ${arg.description}${def}`);
        }
      }
      out.print('');
    }
  },
};
