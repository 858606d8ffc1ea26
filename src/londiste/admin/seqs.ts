/** `seqs`: the set's sequences, whether each is replicated here, and the last published value. */
import type { CommandContext } from '../../cascade/tool.js';
import type { LondisteSettings } from '../settings.js';
import { displayTable } from './display.js';
import type { LondisteFlags } from './flags.js';
import { readSeqs } from './node-tables.js';
import { byName } from './tables.js';

export const seqsCommand = {
  name: 'seqs',
  args: [],
  summary: "the set's sequences: name, local, last value",
  help: 'Usage: %TOOL% CONFIG seqs',
  readOnly: true,
  async run(ctx: CommandContext<LondisteSettings, LondisteFlags>) {
    const { session } = ctx;
    const seqs = (await readSeqs(await session.local(), session.queue)).sort((a, b) =>
      byName(a.seqName, b.seqName),
    );
    displayTable(
      session.out,
      'Sequences on node',
      ['seq_name', 'local', 'last_value'],
      seqs.map((s) => [s.seqName, s.local, s.lastValue]),
    );
  },
};
