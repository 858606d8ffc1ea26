import { seq } from '../grammar.js';
import type { QadminCommand } from './command.js';
import { consumerCommands } from './consumers.js';
import { londisteCommands } from './londiste.js';
import { queueCommands } from './queues.js';
import { sessionCommands } from './session-commands.js';
import { showCommands } from './show.js';

const listed: QadminCommand[] = [
  ...sessionCommands,
  ...queueCommands,
  ...consumerCommands,
  ...showCommands,
  ...londisteCommands,
];

/** `show help;`: every command's syntax and what it does. */
function helpText(): string {
  const width = Math.min(60, Math.max(...listed.map((c) => c.help[0].length)));
  const lines = listed.map(({ help: [syntax, what] }) =>
    syntax.length > width
      ? `${syntax}\n${' '.repeat(width + 2)}${what}`
      : `${syntax.padEnd(width)}  ${what}`,
  );
  return `Commands end with ";". Names may be quoted ("..." or '...'); Q defaults to the current queue.\n${lines.join('\n')}\n`;
}

export const commands: QadminCommand[] = [
  ...listed,
  {
    grammar: seq('show help'),
    help: ['show help;', 'this list (also: help;)'],
    run: async () => helpText(),
  },
  { grammar: seq('help'), help: ['help;', 'this list'], run: async () => helpText() },
];
